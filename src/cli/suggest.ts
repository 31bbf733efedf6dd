// "Did you mean ...?" for mistyped commands, flags and choices: the closest candidate by edit distance
// (adjacent transpositions count as one edit), or one the input is a prefix of.

/** Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps cost 1. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  return d[a.length]![b.length]!;
}

/**
 * The candidate closest to `input`, or undefined when none is close: within about a third of the input's
 * length in edits (at least one), or starting with the input (two characters or more). Ties go to the
 * candidate listed first, so lists put the usual choice first.
 */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  const x = input.toLowerCase();
  const limit = Math.max(1, Math.floor(x.length / 3));
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const y = c.toLowerCase();
    if (y === x) return c;
    const dist = editDistance(x, y);
    // A prefix ("f1" for "f1_macro") ranks like a single edit.
    const score = Math.min(dist <= limit ? dist : Infinity, x.length >= 2 && y.startsWith(x) ? 1 : Infinity);
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

/** "; did you mean X?" or an empty string. */
export function didYouMean(input: string, candidates: readonly string[], prefix = ''): string {
  const c = closest(input, candidates);
  return c === undefined ? '' : `; did you mean ${prefix}${c}?`;
}
