// The console account of posts left out (bad rows skipped, posts a format's rules drop): per reason, the count,
// the first ids, and what was wrong with the first few (for a missing image, the path that was looked for).
import { LEFT_OUT_EXAMPLES, type LeftOut } from './rows.js';

/** The posts left out for one reason. */
export interface LeftOutGroup {
  reason: string;
  count: number;
  /** The first few, in the order they were found. */
  examples: readonly LeftOut[];
}

/** Groups counts by reason with their examples, largest count first (ties by name, for a stable output). */
export function groupsOf(counts: Record<string, number>, examples: Record<string, readonly LeftOut[]>): LeftOutGroup[] {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([reason, count]) => ({ reason, count, examples: examples[reason] ?? [] }));
}

export function totalOf(groups: readonly LeftOutGroup[]): number {
  return groups.reduce((a, g) => a + g.count, 0);
}

function name(e: LeftOut): string {
  return e.id !== undefined ? e.id : e.line !== undefined ? `line ${e.line}` : '?';
}

/** "missing-image 2 — ids a, b" (", ..." when there are more than the ids kept). */
export function groupLine(g: LeftOutGroup, maxIds = LEFT_OUT_EXAMPLES): string {
  const ids = g.examples.slice(0, maxIds).map(name);
  if (ids.length === 0) return `${g.reason} ${g.count}`;
  // malformed lines are named 'line N' already; posts by id
  const noun = g.examples.every((e) => e.id === undefined) ? '' : ids.length === 1 ? 'id ' : 'ids ';
  return `${g.reason} ${g.count} — ${noun}${ids.join(', ')}${g.count > ids.length ? ', ...' : ''}`;
}

/** "2 skipped: missing-image 2 — ids a, b; empty-text 1 — id c" ('' when nothing was left out). */
export function skippedNote(groups: readonly LeftOutGroup[], verb = 'skipped'): string {
  const n = totalOf(groups);
  return n === 0 ? '' : `${n} ${verb}: ${groups.map((g) => groupLine(g)).join('; ')}`;
}

function where(e: LeftOut): string {
  if (e.file !== undefined && e.line !== undefined) return ` (${e.file}:${e.line})`;
  return e.line !== undefined ? ` (line ${e.line})` : '';
}

/**
 * The summary lines: a heading with the total, then per reason its count and first ids, and the details of
 * the first `details` examples (for a missing image, the path tried). Empty when nothing was left out.
 */
export function formatLeftOut(heading: string, groups: readonly LeftOutGroup[], details = 3): string[] {
  const n = totalOf(groups);
  if (n === 0) return [];
  const out = [`${heading}: ${n} post${n === 1 ? '' : 's'}`];
  for (const g of groups) {
    out.push(`  ${groupLine(g)}`);
    for (const e of g.examples.slice(0, details)) {
      if (e.detail === undefined) continue;
      // a line that is not a post is named by where it is; a post by its id and where it was read
      const who =
        e.id !== undefined ? `post ${e.id}${where(e)}` : e.file !== undefined ? `${e.file}:${e.line}` : name(e);
      out.push(`    ${who}: ${e.detail}`);
    }
  }
  return out;
}
