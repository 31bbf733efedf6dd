// Central finite-difference gradient checking in float64 (as torch.autograd.gradcheck): compares the
// autograd gradient of sum(f(x) * w), for a fixed random w, with (L(x + h e_i) - L(x - h e_i)) / 2h.
import { tensor, tidy, noGrad, Tensor, randn, manualSeed } from '../../src/tensor/index.js';

export interface GradcheckResult {
  maxAbsErr: number;
  maxRelErr: number;
  worst: string;
}

/**
 * inputs: float64 arrays with shapes; only those with grad=true are checked. fn gets tensors (leaves with
 * requiresGrad where checked) and returns the output tensor.
 */
export function gradcheck(
  fn: (...xs: Tensor[]) => Tensor,
  inputs: { data: number[]; shape: number[]; grad?: boolean; dtype?: 'float64' | 'int64' | 'bool' }[],
  opts: { eps?: number; seed?: number } = {},
): GradcheckResult {
  const eps = opts.eps ?? 1e-6;
  manualSeed(opts.seed ?? 0);
  return tidy(() => {
    const make = (vals: number[][]) =>
      inputs.map((inp, i) => {
        const t = tensor(vals[i]!, { dtype: inp.dtype ?? 'float64', shape: inp.shape });
        return inp.grad === false || inp.dtype === 'int64' || inp.dtype === 'bool' ? t : t.requiresGrad_();
      });
    const base = inputs.map((x) => [...x.data]);
    const xs = make(base);
    const out = fn(...xs);
    const w = randn(out.shape, { dtype: 'float64' });
    out.mul(w).sum().backward();
    const loss = (vals: number[][]): number =>
      tidy(() =>
        noGrad(() =>
          fn(...make(vals))
            .mul(w)
            .sum()
            .item(),
        ),
      );
    let maxAbsErr = 0;
    let maxRelErr = 0;
    let worst = '';
    inputs.forEach((inp, i) => {
      if (inp.grad === false || inp.dtype === 'int64' || inp.dtype === 'bool') return;
      const g = xs[i]!.grad;
      const analytic = g ? (g.toArray() as number[]) : new Array(inp.data.length).fill(0);
      for (let k = 0; k < inp.data.length; k++) {
        const plus = base.map((a) => [...a]);
        const minus = base.map((a) => [...a]);
        plus[i]![k]! += eps;
        minus[i]![k]! -= eps;
        const numeric = (loss(plus) - loss(minus)) / (2 * eps);
        const abs = Math.abs(numeric - analytic[k]!);
        const rel = abs / Math.max(1e-8, Math.abs(numeric));
        if (abs > maxAbsErr) {
          maxAbsErr = abs;
          worst = `input ${i} element ${k}: numeric ${numeric}, autograd ${analytic[k]}`;
        }
        maxRelErr = Math.max(maxRelErr, Math.min(rel, abs));
      }
    });
    return { maxAbsErr, maxRelErr, worst };
  });
}

/** Deterministic pseudo-random values in [lo, hi) (no engine randomness, so inputs are stable). */
export function values(n: number, seed: number, lo = -1, hi = 1): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out.push(lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296));
  }
  return out;
}
