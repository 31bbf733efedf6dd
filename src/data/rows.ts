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
export type MissingImagePolicy = 'drop' | 'keep';

export interface LoadOptions {
  /** 'drop' (default) removes the post; 'keep' keeps it text-only with `image: null` and `extra.image_missing: true`. */
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
  /** Posts left out, by reason (e.g. 'missing-image', 'text-image-conflict'). */
  dropped: Record<string, number>;
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
