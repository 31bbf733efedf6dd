// The shared tail of every loader: duplicate ids, the missing-image policy, drop counters, and the split
// (the dataset's own, or a seeded stratified one saved beside the data).
import { join } from 'node:path';
import { isFile } from './paths.js';
import {
  count,
  DataError,
  LEFT_OUT_EXAMPLES,
  rowOrigin,
  setMissingImagePath,
  type LeftOut,
  type LoadOptions,
  type LoadResult,
  type Row,
} from './rows.js';
import { applySeededSplit, DEFAULT_RATIOS, DEFAULT_SEED } from './splits.js';

/** The default file a seeded split is saved to: in the dataset folder, named by format and seed. */
export function defaultSplitFile(folder: string, format: string, seed: number): string {
  return join(folder, `tandem-split-${format}-seed${seed}.json`);
}

export class LoadBuilder {
  readonly rows: Row[] = [];
  readonly dropped: Record<string, number> = {};
  readonly badRows: Record<string, number> = {};
  readonly leftOut: Record<string, LeftOut[]> = {};
  readonly notes: string[] = [];
  encodings: Record<string, number> | undefined;
  private keptWithoutImage = 0;
  private read = 0;
  private fileEncoding: string | undefined;
  private readonly ids = new Set<string>();

  constructor(
    readonly format: string,
    readonly source: string,
    readonly opts: LoadOptions,
  ) {}

  /** Counts `n` posts the format's rules leave out; `example` (id or line, detail) is kept for the summary. */
  drop(reason: string, n = 1, example?: LeftOut): void {
    count(this.dropped, reason, n);
    this.example(reason, example);
  }

  /** Counts a post left out because it cannot be used (the bad-row policy 'skip'). */
  skipBadRow(reason: string, example: LeftOut): void {
    count(this.badRows, reason);
    this.example(reason, example);
  }

  private example(reason: string, example: LeftOut | undefined): void {
    if (!example) return;
    const list = (this.leftOut[reason] ??= []);
    if (list.length < LEFT_OUT_EXAMPLES) list.push(example);
  }

  countEncoding(enc: string): void {
    this.encodings ??= {};
    count(this.encodings, enc);
  }

  /**
   * The encoding of the file the next posts come from (key CSV, JSONL, MSD list files): each post added after
   * this is counted under it and, when it is not UTF-8, carries it as `extra.text_encoding`.
   */
  fromFileEncoded(encoding: string): void {
    this.fileEncoding = encoding;
  }

  /**
   * Adds a post. `row.image` is the expected image path (or null when none was found): when the file is not
   * there the post is left out ('missing-image' in badRows), kept text-only with `extra.image_missing` (the
   * path tried stays readable with missingImagePath), or stops the loading, by policy.
   * A repeated id is dropped ('duplicate-id'), the first one wins.
   */
  add(row: Row): boolean {
    this.opts.onProgress?.(++this.read);
    if (this.ids.has(row.id)) {
      this.drop('duplicate-id', 1, { id: row.id });
      return false;
    }
    if (row.image === null || !isFile(row.image)) {
      const detail = row.image === null ? 'no image found for the post' : `image file not found: ${row.image}`;
      const policy = this.opts.onMissingImage ?? 'drop';
      if (policy === 'error')
        throw new DataError(
          `post ${row.id}: missing-image: ${detail}; fix the data, or leave such posts out with --on-bad-row skip or keep them text-only with --missing-image keep`,
        );
      if (policy === 'drop') {
        const o = rowOrigin(row);
        this.skipBadRow('missing-image', { id: row.id, ...(o ? { ...o } : {}), detail });
        return false;
      }
      if (row.image !== null) setMissingImagePath(row, row.image);
      row.image = null;
      row.extra = { ...row.extra, image_missing: true };
      this.keptWithoutImage++;
    }
    this.keep(row);
    return true;
  }

  private keep(row: Row): void {
    if (this.fileEncoding !== undefined) {
      this.countEncoding(this.fileEncoding);
      if (this.fileEncoding !== 'utf-8') row.extra = { ...row.extra, text_encoding: this.fileEncoding };
    }
    this.ids.add(row.id);
    this.rows.push(row);
  }

  /** Adds a post whose image is optional by the format itself (generic files with no image): no policy applies. */
  addTextOnly(row: Row): boolean {
    this.opts.onProgress?.(++this.read);
    if (this.ids.has(row.id)) {
      this.drop('duplicate-id', 1, { id: row.id });
      return false;
    }
    this.keep(row);
    return true;
  }

  /** Finishes with the dataset's own split (already set on each row). */
  finishOfficial(classNames?: string[]): LoadResult {
    return this.result({ kind: 'official' }, classNames);
  }

  /** Finishes with a seeded stratified split, saved to `opts.splitFile` or beside the data in `folder`. */
  finishSeeded(folder: string, classNames?: string[]): LoadResult {
    const seed = this.opts.splitSeed ?? DEFAULT_SEED;
    const ratios = this.opts.splitRatios ?? DEFAULT_RATIOS;
    const file = this.opts.splitFile ?? defaultSplitFile(folder, this.format, seed);
    this.notes.push(
      ...applySeededSplit(this.rows, { format: this.format, file, seed, ratios, save: !this.opts.noSaveSplit }),
    );
    return this.result({ kind: 'seeded', file, seed, ratios }, classNames);
  }

  private result(split: LoadResult['split'], classNames?: string[]): LoadResult {
    return {
      format: this.format,
      source: this.source,
      rows: this.rows,
      dropped: this.dropped,
      badRows: this.badRows,
      leftOut: this.leftOut,
      notes: this.notes,
      split,
      ...(this.encodings ? { encodings: this.encodings } : {}),
      keptWithoutImage: this.keptWithoutImage,
      ...(classNames ? { classNames } : {}),
    };
  }
}

/** Maps the split spellings found in releases ('val', 'valid', 'validation', 'dev_seen') to tandem's names. */
export function normaliseSplit(s: string): string {
  const v = s.trim().toLowerCase();
  if (v === 'val' || v === 'valid' || v === 'validation' || v === 'dev') return 'dev';
  if (v === 'train' || v === 'training') return 'train';
  if (v === 'test' || v === 'testing') return 'test';
  return v;
}
