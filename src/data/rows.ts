// The generic post row that every dataset loader produces and the training code consumes, and the result of
// a loader: the kept rows plus an account of what was dropped and why.

/** Split names used by tandem. Datasets with extra official splits (e.g. Hateful Memes' unseen sets) keep their own names. */
export type SplitName = 'train' | 'dev' | 'test';

/** One social-media post: a text, at most one image, and its label(s). */
export interface Row {
  /** Unique within a dataset (the tweet/meme id of the source). */
  id: string;
  text: string;
  /**
   * Absolute path of the image once loaded (null: a text-only post, kept by `onMissingImage: 'keep'`).
   * In the generic JSONL/CSV files it is stored relative to the file's folder.
   */
  image: string | null;
  /** Single-label classification target (the class name, e.g. 'positive', 'sarcastic'). */
  label?: string;
  /** Multi-label targets. */
  labels?: string[];
  /** 'train' | 'dev' | 'test', or a dataset's own extra split name. */
  split?: SplitName | string;
  /** Anything else the source provides: OCR text, per-modality labels, annotator votes, flags. */
  extra?: Record<string, unknown>;
}

/** What to do with a post whose image file is missing. */
export type MissingImagePolicy = 'drop' | 'keep' | 'error';

export interface LoadOptions {
  /**
   * 'drop' (default) leaves the post out, counted in `badRows['missing-image']`; 'keep' keeps it text-only with
   * `image: null` and `extra.image_missing: true` (the path looked for stays readable with missingImagePath);
   * 'error' stops with a DataError naming the post and the path.
   */
  onMissingImage?: MissingImagePolicy;
  /** Seed of the stratified split for datasets without an official one (default 42). */
  splitSeed?: number;
  /** train:dev:test ratios for seeded splits (default [0.8, 0.1, 0.1]). */
  splitRatios?: [number, number, number];
  /** Where the seeded split is saved (default: beside the data, see splits.ts). */
  splitFile?: string;
  /** Do not write the seeded split file (it is still computed). */
  noSaveSplit?: boolean;
  /** Decode the dataset's text files with this encoding instead of detecting it (`--text-encoding`). */
  textEncoding?: string;
  /** Generic JSONL: a line that is not a JSON post stops loading ('error', default) or is left out and counted ('skip'). */
  onMalformedLine?: 'error' | 'skip';
  /** A dataset-specific task/variant, e.g. TIR 'image-adds', MMHS150K 'six-way', Hateful Memes 'unseen'. */
  variant?: string;
  /** Called with the number of posts read so far (kept or dropped), as reading goes (a progress display). */
  onProgress?: (postsRead: number) => void;
}

export interface LoadResult {
  /** The format name the rows were read with. */
  format: string;
  /** The dataset folder (or file) that was read. */
  source: string;
  rows: Row[];
  /** Posts the format's own rules left out, by reason (e.g. 'text-image-conflict', 'duplicate-id'). */
  dropped: Record<string, number>;
  /**
   * Posts left out because they cannot be used (the bad-row policy 'skip'): 'missing-image' (onMissingImage
   * 'drop'), 'malformed-line' (onMalformedLine 'skip').
   */
  badRows: Record<string, number>;
  /** The first few posts left out per reason of `dropped` and `badRows`: id (or line) and what was wrong. */
  leftOut: Record<string, LeftOut[]>;
  /** Human-readable remarks (encodings decoded, split file used, variants chosen). */
  notes: string[];
  /** Where the split came from: the dataset's own, a seeded split (and its file), or the rows' own field. */
  split: { kind: 'official' | 'seeded'; file?: string; seed?: number; ratios?: [number, number, number] };
  /** Text files decoded per encoding (e.g. { 'utf-8': 10, 'windows-1252': 2 }); only for formats with text files. */
  encodings?: Record<string, number>;
  /** Posts kept text-only because their image was missing (policy 'keep'). */
  keptWithoutImage: number;
  /** The class names in a fixed order where the dataset defines one. */
  classNames?: string[];
}

/** One post left out while reading: its id (or, for a line that is not a post, its line) and the detail. */
export interface LeftOut {
  id?: string;
  /** The data file and line it was read from, where known. */
  file?: string;
  line?: number;
  /** E.g. "image file not found: /data/images/3.jpg". */
  detail?: string;
}

/** How many left-out posts per reason are kept by id (for the console summary). */
export const LEFT_OUT_EXAMPLES = 5;

const ORIGIN = Symbol('tandem.rowOrigin');

/**
 * Records the file and 1-based line a row was read from. Non-enumerable, so rows still compare, spread and
 * write back exactly as before; error messages about a row read it with rowOrigin().
 */
export function setRowOrigin(row: Row, file: string, line: number): void {
  Object.defineProperty(row, ORIGIN, { value: { file, line }, enumerable: false, configurable: true });
}

/** Where a row was read from: the generic loader's record, else `extra.line` (and `extra.file`) when a loader set them. */
export function rowOrigin(row: Row): { file?: string; line: number } | undefined {
  const o = (row as unknown as Record<symbol, { file: string; line: number } | undefined>)[ORIGIN];
  if (o) return o;
  const line = row.extra?.line;
  if (typeof line !== 'number' || !Number.isInteger(line) || line <= 0) return undefined;
  const file = row.extra?.file;
  return typeof file === 'string' ? { file, line } : { line };
}

const MISSING_IMAGE = Symbol('tandem.missingImagePath');

/**
 * Records the image path that was looked for and not found on a post kept without its image. Non-enumerable
 * (as the row's origin), so it is never written back into the data; messages about the post read it.
 */
export function setMissingImagePath(row: Row, path: string): void {
  Object.defineProperty(row, MISSING_IMAGE, { value: path, enumerable: false, configurable: true });
}

/** The image path a post's loader looked for and did not find, when there was one. */
export function missingImagePath(row: Row): string | undefined {
  return (row as unknown as Record<symbol, string | undefined>)[MISSING_IMAGE];
}

/** A problem with the data itself (malformed line, missing file, escaping path): shown to the user, exit code 2. */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

/** Adds one to a reason counter. */
export function count(map: Record<string, number>, key: string, n = 1): void {
  map[key] = (map[key] ?? 0) + n;
}
