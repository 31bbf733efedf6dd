// Seeded, stratified train/dev/test splits for datasets without an official split, saved to a JSON file so
// that every run of an experiment (and every model compared in it) sees the same split.
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic-write.js';
import { SeededRandom } from '../runtime/random.js';
import { DataError, type Row } from './rows.js';

export const DEFAULT_RATIOS: [number, number, number] = [0.8, 0.1, 0.1];
export const DEFAULT_SEED = 42;
const SPLIT_NAMES = ['train', 'dev', 'test'] as const;

/** Splits n items into counts by ratio with largest-remainder rounding, so the counts sum to n. */
export function allocate(n: number, ratios: readonly number[]): number[] {
  const total = ratios.reduce((a, b) => a + b, 0);
  const exact = ratios.map((r) => (n * r) / total);
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, frac: e - Math.floor(e) })).sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    counts[i]!++;
    left--;
  }
  return counts;
}

/** The stratum of a row: its label, its sorted multi-labels, or '' when unlabelled. */
function stratum(r: Pick<Row, 'label' | 'labels'>): string {
  if (r.label !== undefined) return r.label;
  if (r.labels) return [...r.labels].sort().join('|');
  return '';
}

/**
 * Assigns each id to train/dev/test: within each label the ids are sorted (so input order does not matter),
 * shuffled with one PRNG seeded by `seed`, and cut by `ratios`.
 */
export function stratifiedSplit(
  rows: readonly Pick<Row, 'id' | 'label' | 'labels'>[],
  seed: number = DEFAULT_SEED,
  ratios: readonly number[] = DEFAULT_RATIOS,
): Map<string, string> {
  if (ratios.length !== 3 || ratios.some((r) => !(r >= 0)) || ratios.reduce((a, b) => a + b, 0) <= 0) {
    throw new DataError(`split ratios must be three non-negative numbers with a positive sum, got ${ratios.join(':')}`);
  }
  const groups = new Map<string, string[]>();
  for (const r of rows) {
    const k = stratum(r);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r.id);
  }
  const rng = new SeededRandom(seed, 'mulberry32');
  const out = new Map<string, string>();
  for (const key of [...groups.keys()].sort()) {
    const ids = rng.shuffle([...groups.get(key)!].sort());
    const counts = allocate(ids.length, ratios);
    let k = 0;
    counts.forEach((c, s) => {
      for (let j = 0; j < c; j++) out.set(ids[k++]!, SPLIT_NAMES[s]!);
    });
  }
  return out;
}

/** The saved split file. */
export interface SplitFile {
  format: string;
  seed: number;
  ratios: number[];
  /** id -> split name. */
  splits: Record<string, string>;
}

/**
 * Gives every row a split: reuses the assignments in `file` when it exists (and was made with the same seed and
 * ratios), assigns ids the file does not know, and saves the file back when anything was added. Returns notes.
 */
export function applySeededSplit(
  rows: Row[],
  opts: { format: string; file: string; seed: number; ratios: [number, number, number]; save: boolean },
): string[] {
  const notes: string[] = [];
  let saved: SplitFile | null = null;
  if (existsSync(opts.file)) {
    try {
      saved = JSON.parse(readFileSync(opts.file, 'utf8')) as SplitFile;
    } catch (e) {
      throw new DataError(`${opts.file}: not a valid split file (${(e as Error).message})`);
    }
    if (typeof saved !== 'object' || saved === null || typeof saved.splits !== 'object' || saved.splits === null) {
      throw new DataError(`${opts.file}: not a split file (expected an object with 'splits': {id: split})`);
    }
    if (saved.seed !== opts.seed || JSON.stringify(saved.ratios) !== JSON.stringify(opts.ratios)) {
      throw new DataError(
        `${opts.file}: saved with seed ${saved.seed} and ratios ${saved.ratios?.join(':')}, but seed ${opts.seed} and ratios ${opts.ratios.join(':')} were asked; ` +
          'delete the file or pass --split-file to keep both',
      );
    }
  }
  const known = saved?.splits ?? {};
  const fresh = rows.filter((r) => !(r.id in known));
  const assigned = fresh.length > 0 ? stratifiedSplit(fresh, opts.seed, opts.ratios) : new Map<string, string>();
  for (const r of rows) r.split = known[r.id] ?? assigned.get(r.id)!;
  if (saved) notes.push(`split reused from ${opts.file}${fresh.length ? ` (${fresh.length} new posts assigned)` : ''}`);
  else
    notes.push(
      `seeded split (seed ${opts.seed}, ${opts.ratios.join(':')}) ${opts.save ? 'saved to' : 'not saved; would be'} ${opts.file}`,
    );
  if (opts.save && (saved === null || fresh.length > 0)) {
    const splits: Record<string, string> = { ...known };
    for (const [id, s] of assigned) splits[id] = s;
    const out: SplitFile = { format: opts.format, seed: opts.seed, ratios: opts.ratios, splits };
    try {
      writeFileAtomic(opts.file, JSON.stringify(out, null, 1) + '\n');
    } catch (e) {
      notes.push(
        `could not save the split to ${opts.file}: ${(e as Error).message}; pass --split-file to save it elsewhere`,
      );
    }
  }
  return notes;
}
