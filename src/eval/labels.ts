// Checks on label vectors and the label set a metric is computed over.

/** Class indices, one per example (plain arrays or typed arrays). */
export type Labels = ArrayLike<number>;

/** Throws unless `v` holds only non-negative integers; `name` is used in the message (e.g. "yPred"). */
export function checkLabels(v: Labels, name: string): void {
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!Number.isInteger(x) || x < 0)
      throw new RangeError(`${name}[${i}] = ${x}: expected a class index (integer >= 0)`);
  }
}

/** Throws unless the vectors have the same length. */
export function checkSameLength(a: { length: number }, b: { length: number }, nameA: string, nameB: string): void {
  if (a.length !== b.length) {
    throw new RangeError(`${nameA} has ${a.length} entries but ${nameB} has ${b.length}: expected one per example`);
  }
}

/** Sorted union of the classes that occur in any of the vectors (scikit-learn's `unique_labels`). */
export function presentLabels(...vectors: Labels[]): number[] {
  const seen = new Set<number>();
  for (const v of vectors) for (let i = 0; i < v.length; i++) seen.add(v[i]);
  return [...seen].sort((x, y) => x - y);
}

/** `[0, 1, ..., k - 1]`. */
export function range(k: number): number[] {
  return Array.from({ length: k }, (_, i) => i);
}

/** Throws unless every entry of `v` is below `numClasses`. */
export function checkBelow(v: Labels, numClasses: number, name: string): void {
  for (let i = 0; i < v.length; i++) {
    if (v[i] >= numClasses) {
      throw new RangeError(`${name}[${i}] = ${v[i]}: expected a class index in [0, ${numClasses})`);
    }
  }
}
