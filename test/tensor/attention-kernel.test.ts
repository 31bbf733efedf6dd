// The attention op (libtorch 2.x's fused scaled_dot_product_attention, or the explicit path on 1.13 and in
// float64) against softmax(q kᵀ · scale + mask) v written out of plain ops, forward and gradients, at the sizes
// the models use (12 heads would be slower, not different: 4 heads, 50-60 positions, head size 16) with the
// masks they pass: none, an additive padding mask of the dtype's lowest value, a bool one, causal with padding
// (CLIP's text tower) and cross-attention with a different key length (LXMERT). On TANDEM_TEST_DEVICE.
// On libtorch 2.11's CPU the fused kernel's float64 gradients, called from the op, were wrong (up to 1e5 times
// the finite difference tolerance in the ViLT/LXMERT checks; PyTorch's own SDPA was exact in Python there): the
// op now takes the explicit path in float64.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, full, manualSeed, noGrad, ones, randn, tidy, zeros, type Tensor } from '../../src/tensor/index.js';
import { TEST_DEVICE } from '../helpers/device.js';

type Dtype = 'float32' | 'float64';
const LOWEST: Record<Dtype, number> = { float32: -3.4028234663852886e38, float64: -1.7976931348623157e308 };
// Observed worst relative differences: float64 ~1e-15, float32 ~1e-6 (fused kernel vs explicit).
const TOL: Record<Dtype, number> = { float64: 1e-12, float32: 2e-5 };

interface Case {
  name: string;
  lq: number;
  lk: number;
  mask: (dtype: Dtype) => Tensor | null;
  causal?: boolean;
}
const B = 2;
/** Keys 0..n-1 of batch 0 attended, all of batch 1: [B, 1, 1, lk]. */
const keep = (lk: number, n: number): Tensor => {
  const k = ones([B, 1, 1, lk], { dtype: 'bool', device: TEST_DEVICE });
  noGrad(() =>
    k
      .select(0, 0)
      .narrow(-1, n, lk - n)
      .fill_(0),
  );
  return k;
};
const CASES: Case[] = [
  { name: 'no mask', lq: 50, lk: 50, mask: () => null },
  {
    name: 'additive padding mask (lowest value)',
    lq: 50,
    lk: 50,
    mask: (dtype) =>
      zeros([B, 1, 1, 50], { dtype, device: TEST_DEVICE }).maskedFill(keep(50, 37).logicalNot(), LOWEST[dtype]),
  },
  { name: 'bool padding mask', lq: 50, lk: 50, mask: () => keep(50, 41) },
  {
    name: 'causal + additive padding',
    lq: 50,
    lk: 50,
    causal: true,
    mask: (dtype) =>
      zeros([B, 1, 1, 50], { dtype, device: TEST_DEVICE }).maskedFill(keep(50, 44).logicalNot(), LOWEST[dtype]),
  },
  {
    name: 'cross-attention (60 keys, padded)',
    lq: 36,
    lk: 60,
    mask: (dtype) => full([B, 1, 1, 60], 0, { dtype, device: TEST_DEVICE }).maskedFill(keep(60, 23).logicalNot(), -1e4),
  },
];

function explicit(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null, causal: boolean): Tensor {
  let s = q.matmul(k.transpose(-2, -1)).mul(1 / Math.sqrt(q.size(-1)));
  if (causal) {
    const upper = ones([q.size(-2), k.size(-2)], { dtype: 'bool', device: TEST_DEVICE })
      .tril()
      .logicalNot();
    s = s.maskedFill(upper, -Infinity);
  }
  if (mask) s = mask.dtype === 'bool' ? s.maskedFill(mask.logicalNot(), -Infinity) : s.add(mask);
  return s.softmax(-1).matmul(v);
}

/** Output and gradients of a fixed weighting of the output, for q, k, v. */
function run(fn: (q: Tensor, k: Tensor, v: Tensor) => Tensor, inputs: Tensor[], w: Tensor): Tensor[] {
  const leaves = inputs.map((x) => x.detach().requiresGrad_());
  const out = fn(leaves[0]!, leaves[1]!, leaves[2]!);
  out.mul(w).sum().backward();
  return [out.detach(), ...leaves.map((l) => l.grad!)];
}

/** max |a - b| / max |b| */
const relative = (a: Tensor, b: Tensor): number =>
  tidy(() => a.sub(b).abs().max().item() / Math.max(1e-30, b.abs().max().item()));

for (const dtype of ['float64', 'float32'] as Dtype[])
  test(`attention op = explicit softmax(q kᵀ/√d + mask) v, forward and gradients (${dtype}, ${TEST_DEVICE})`, () => {
    manualSeed(7);
    const worst: string[] = [];
    for (const c of CASES)
      tidy(() => {
        const opts = { dtype, device: TEST_DEVICE };
        const inputs = [randn([B, 4, c.lq, 16], opts), randn([B, 4, c.lk, 16], opts), randn([B, 4, c.lk, 16], opts)];
        const w = randn([B, 4, c.lq, 16], opts);
        const mask = c.mask(dtype);
        const causal = c.causal ?? false;
        const got = run((q, k, v) => F.attention(q, k, v, { mask, causal }), inputs, w);
        const want = run((q, k, v) => explicit(q, k, v, mask, causal), inputs, w);
        const names = ['output', 'grad q', 'grad k', 'grad v'];
        const errs = got.map((g, i) => relative(g, want[i]!));
        worst.push(`${c.name}: ${errs.map((e, i) => `${names[i]} ${e.toExponential(1)}`).join(', ')}`);
        errs.forEach((e, i) => assert.ok(e <= TOL[dtype], `${dtype} ${c.name}: ${names[i]} off by ${e} (relative)`));
      });
    console.log(`${dtype}: max relative difference\n  ${worst.join('\n  ')}`);
  });
