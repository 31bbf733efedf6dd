// Parity with a reference, stated once for every model test: max |actual - ref| ≤ rel · max(floor, max |ref|).
// The tolerance scales with the reference (hidden states of a few units, logits of a few thousandths), and the
// observed error is printed with it so a tolerance can be kept near what a correct implementation achieves.
import assert from 'node:assert/strict';
import { tidy, type Tensor } from '../../src/tensor/index.js';

export interface CloseOptions {
  /** Allowed max |diff| relative to max(floor, max |ref|). */
  rel: number;
  /** What is compared, for the printed line and the failure message. */
  name: string;
  /** Lower bound on the scale (default 1: below unit scale the tolerance is absolute, rel itself). */
  floor?: number;
}

export interface CloseResult {
  maxDiff: number;
  maxRef: number;
  tol: number;
}

/** Max |a - b| and max |b| in float64 (shapes must be equal: a reference is never reshaped to fit). */
export function diffStats(actual: Tensor, ref: Tensor): { maxDiff: number; maxRef: number } {
  assert.deepEqual(actual.shape, ref.shape, 'shape differs from the reference');
  return tidy(() => {
    const a = actual.to('float64');
    const b = ref.to('float64');
    return { maxDiff: a.sub(b).abs().max().item(), maxRef: b.abs().max().item() };
  });
}

/** Asserts parity within rel · max(floor, max|ref|) and prints the observed error; returns the figures. */
export function expectClose(actual: Tensor, ref: Tensor, opts: CloseOptions): CloseResult {
  assert.deepEqual(actual.shape, ref.shape, `${opts.name}: shape ${actual.shape} vs reference ${ref.shape}`);
  const { maxDiff, maxRef } = diffStats(actual, ref);
  const tol = opts.rel * Math.max(opts.floor ?? 1, maxRef);
  console.log(
    `parity ${opts.name}: max|diff| ${maxDiff.toExponential(2)}, max|ref| ${maxRef.toExponential(2)}, ` +
      `tol ${tol.toExponential(2)} (${(maxDiff / tol).toFixed(3)} of it)`,
  );
  assert.ok(
    Number.isFinite(maxDiff) && maxDiff <= tol,
    `${opts.name}: max|diff| ${maxDiff.toExponential(3)} > ${tol.toExponential(3)} (rel ${opts.rel} of max(${opts.floor ?? 1}, ${maxRef.toExponential(3)}))`,
  );
  return { maxDiff, maxRef, tol };
}

/** The same for two numbers (losses). */
export function expectCloseNumber(actual: number, ref: number, opts: CloseOptions): CloseResult {
  const maxDiff = Math.abs(actual - ref);
  const maxRef = Math.abs(ref);
  const tol = opts.rel * Math.max(opts.floor ?? 1, maxRef);
  console.log(
    `parity ${opts.name}: ${actual} vs ${ref}: |diff| ${maxDiff.toExponential(2)}, tol ${tol.toExponential(2)}`,
  );
  assert.ok(
    Number.isFinite(maxDiff) && maxDiff <= tol,
    `${opts.name}: ${actual} vs ${ref} (|diff| ${maxDiff} > ${tol})`,
  );
  return { maxDiff, maxRef, tol };
}

/**
 * The same check over many named tensors (gradients, parameters after a step): each within
 * rel · max(floor, its own max|ref|); prints one line with the worst ratio.
 */
export function expectAllClose(
  pairs: Iterable<readonly [string, Tensor, Tensor]>,
  opts: { rel: number; name: string; floor?: number },
): { worst: string; ratio: number; count: number } {
  let worst = '';
  let ratio = 0;
  let count = 0;
  const failures: string[] = [];
  for (const [name, actual, ref] of pairs) {
    assert.deepEqual(actual.shape, ref.shape, `${opts.name} ${name}: shape ${actual.shape} vs reference ${ref.shape}`);
    const { maxDiff, maxRef } = diffStats(actual, ref);
    const tol = opts.rel * Math.max(opts.floor ?? 1, maxRef);
    const r = maxDiff / tol;
    count++;
    if (!(r <= 1)) failures.push(`${name}: max|diff| ${maxDiff.toExponential(3)} > ${tol.toExponential(3)}`);
    if (!(r <= ratio)) {
      ratio = r;
      worst = name;
    }
  }
  console.log(
    `parity ${opts.name}: ${count} tensors, worst ${worst} at ${ratio.toFixed(3)} of rel ${opts.rel} · max(${opts.floor ?? 1}, max|ref|)`,
  );
  assert.ok(count > 0, `${opts.name}: nothing compared`);
  assert.deepEqual(failures, [], `${opts.name}: outside the tolerance`);
  return { worst, ratio, count };
}
