// Corrections of p-values for testing many hypotheses at once (a study's table tests every cell against CE).

/**
 * Holm's step-down correction (Holm 1979): sort the m p-values ascending, multiply the i-th smallest (from 0)
 * by m - i, keep the sequence non-decreasing, cap at 1. Controls the family-wise error rate like Bonferroni
 * but rejects at least as much. Returns the adjusted p-values in the input order; NaN stays NaN (not counted).
 */
export function holm(pValues: readonly number[]): number[] {
  for (const p of pValues)
    if (!Number.isNaN(p) && !(p >= 0 && p <= 1)) throw new RangeError(`p-value ${p}: expected in [0, 1]`);
  const order = pValues
    .map((p, i) => ({ p, i }))
    .filter((x) => !Number.isNaN(x.p))
    .sort((a, b) => a.p - b.p);
  const m = order.length;
  const out = pValues.map(() => NaN);
  let running = 0;
  order.forEach(({ p, i }, k) => {
    running = Math.max(running, Math.min(1, (m - k) * p));
    out[i] = running;
  });
  return out;
}
