// Sums and averages in the order NumPy performs them, so that metrics agree with scikit-learn to the last bit
// (or within an ulp or two) rather than only to ~1e-15.

/** NumPy's pairwise summation of float64 (blocks of 128, eight accumulators, sequential below 8). */
export function pairwiseSum(a: ArrayLike<number>, start = 0, n = a.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    const r = [0, 0, 0, 0, 0, 0, 0, 0];
    for (let j = 0; j < 8; j++) r[j] = a[start + j];
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    let res = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(a, start, n2) + pairwiseSum(a, start + n2, n - n2);
}

/** `np.mean(a)`; NaN for an empty array. */
export function mean(a: ArrayLike<number>): number {
  return pairwiseSum(a) / a.length;
}

/** `np.average(a, weights=w)`; throws when the weights sum to zero, as NumPy does. */
export function weightedAverage(a: ArrayLike<number>, w: ArrayLike<number>): number {
  const scale = pairwiseSum(w);
  if (scale === 0) throw new RangeError('weights sum to zero');
  const products = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) products[i] = a[i] * w[i];
  return pairwiseSum(products) / scale;
}

/**
 * scikit-learn's `_nanaverage`: NaN entries (from `zero_division=NaN`) are left out; with weights that sum to zero
 * after that, the plain mean is taken. NaN when nothing is left.
 */
export function nanAverage(a: ArrayLike<number>, w?: ArrayLike<number>): number {
  const keep: number[] = [];
  for (let i = 0; i < a.length; i++) if (!Number.isNaN(a[i])) keep.push(i);
  if (keep.length === 0) return NaN;
  const values = keep.map((i) => a[i]);
  if (!w) return mean(values);
  const weights = keep.map((i) => w[i]);
  return pairwiseSum(weights) === 0 ? mean(values) : weightedAverage(values, weights);
}
