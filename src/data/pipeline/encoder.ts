// Rows -> PostBatch: tokenised and padded text, processed images (in an ImagePool's workers), label indices,
// and content keys. An encoder reads the modalities it has a preprocessor for: without a tokenizer (an
// image-only model) the text is neither checked nor tokenised, without an image processor (a text-only model)
// no image file is opened, so posts without images are fine. Work happens in two halves: prepare() does
// everything that needs no tensor engine and returns a HostBatch of typed arrays (safe to run ahead, off the
// step), toPostBatch() makes the tensors.
import { closeSync, openSync, readSync } from 'node:fs';
import { dirname, sep } from 'node:path';
import { probeImage } from '../images-check.js';
import { missingImagePath, rowOrigin, type Row } from '../rows.js';
import type { Modality, PostBatch } from '../../multimodal/types.js';
import { fromBuffer, type Device, type Tensor } from '../../tensor/index.js';
import { Tokenizer } from '../../text/tokenizer.js';
import { normalizeTweet, type TweetNormalizeOptions } from '../../text/tweet-normalize.js';
import {
  DEFAULT_MAX_PIXELS,
  loadImageProcessorConfig,
  type Backend,
  type ImageProcessorConfig,
} from '../../vision/index.js';
import { badRow, BadRowLog, type BadRow } from './bad-rows.js';
import type { ImageJob, ImageResult } from './image-job.js';
import { ImagePool } from './image-pool.js';
import { configHash, textKey } from './keys.js';

export const DEFAULT_MAX_LENGTH = 128;

export interface PostEncoderOptions {
  /** Class names in label-index order (kept with the model). */
  labelNames: string[];
  /** Rows carry `labels` (several classes each): labels become 0/1 float32 [B, C]. */
  multiLabel?: boolean;
  /** Truncation length in tokens, special tokens included (default 128; the paper uses 40 for ViLT). */
  maxLength?: number;
  /** Normalise tweets before tokenising (BERTweet style with true, or these options). */
  tweetNormalize?: boolean | TweetNormalizeOptions;
  /** Require a known label on every row (default true); false for prediction, where batches carry no labels. */
  withLabels?: boolean;
  /** Emit token_type_ids (default: when the tokenizer gives the two segments of a pair different type ids, as BERT does). */
  tokenTypeIds?: boolean;
  /** Whose resize arithmetic to reproduce (default 'torchvision', as transformers' default processors). */
  backend?: Backend;
  /** Refuse images with more pixels than this (decompression bombs); default Pillow's limit. */
  maxPixels?: number;
}

/** Tokenised text as plain typed arrays: [B, L] row-major, int64 as transformers returns them. */
export interface HostText {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  tokenTypeIds?: BigInt64Array;
  seqLength: number;
}

/** A batch as plain typed arrays, before any tensor exists. */
export interface HostBatch {
  ids: string[];
  /** Absent when the encoder reads no text. */
  text?: HostText;
  /** Processed images [N, 3, H, W] (+ ViLT's pixel_mask [N, H, W]); N = B unless `pixelRows` says otherwise. */
  pixels?: { data: Float32Array; shape: [number, number, number, number]; mask?: BigInt64Array };
  /** Feature-cache mode: the rows (indices into ids) whose images are in `pixels`; the others are cached. */
  pixelRows?: number[];
  /** Class indices [B] (single-label) or 0/1 [B, C] (multi-label). */
  labels?: { kind: 'index'; data: BigInt64Array } | { kind: 'multi'; data: Float32Array; numLabels: number };
  /** Present with the text. */
  textKeys?: string[];
  /** Present when the encoder reads images (also in feature-cache mode, where they key the cache). */
  imageKeys?: string[];
}

// The configured pad token, else the usual names (BERT [PAD], RoBERTa/XLM-R <pad>, CLIP pads with its end token).
function padIdOf(tok: Tokenizer): number {
  for (const name of [tok.padToken(), '[PAD]', '<pad>', '<|endoftext|>']) {
    const id = name === null ? undefined : tok.tokenToId(name);
    if (id !== undefined) return id;
  }
  return 0;
}

function pairHasTypeIds(tok: Tokenizer): boolean {
  try {
    return tok.encode('a', 'b').type_ids.some((t) => t !== 0);
  } catch {
    return false;
  }
}

function isIsoMedia(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(12);
    return readSync(fd, head, 0, 12, 0) === 12 && head.toString('latin1', 4, 8) === 'ftyp';
  } finally {
    closeSync(fd);
  }
}

/** For posts read from a data file: where its image paths are resolved from (a moved file loses its images). */
function imagePathHint(row: Row, path: string): string {
  const file = rowOrigin(row)?.file;
  if (file === undefined || !path.startsWith(dirname(file) + sep)) return '';
  return `; image paths in ${file} are relative to ${dirname(file)}`;
}

type ProcessedImage = { data: Float32Array; height: number; width: number };

export class PostEncoder {
  readonly maxLength: number;
  readonly labelNames: readonly string[];
  readonly multiLabel: boolean;
  readonly withLabels: boolean;
  readonly tokenTypeIds: boolean;
  readonly backend: Backend;
  /** What this encoder reads of a post: the modalities it has a preprocessor for. */
  readonly modalities: readonly Modality[];
  /** A short hash of the resolved processor configuration (and backend): part of feature-cache keys. */
  readonly processorHash: string;
  private readonly labelIndex: Map<string, number>;
  /** The id padding positions hold (their attention_mask is 0). */
  readonly padId: number;
  private readonly tweet: TweetNormalizeOptions | null;

  /** `tokenizer` null: the text is not read (image-only models); `imageConfig` null: no image is read (text-only). */
  constructor(
    private readonly textTokenizer: Tokenizer | null,
    private readonly imageProcessor: ImageProcessorConfig | null,
    private readonly opts: PostEncoderOptions,
  ) {
    if (!textTokenizer && !imageProcessor)
      throw new Error('PostEncoder: give a tokenizer, an image processor config or both (it reads nothing)');
    this.modalities = [...(textTokenizer ? ['text' as const] : []), ...(imageProcessor ? ['image' as const] : [])];
    this.maxLength = opts.maxLength ?? DEFAULT_MAX_LENGTH;
    if (!Number.isInteger(this.maxLength) || this.maxLength < 2)
      throw new Error(`maxLength must be an integer >= 2, got ${this.maxLength}`);
    if (opts.labelNames.length === 0 && opts.withLabels !== false)
      throw new Error('labelNames is empty: give the class names (or withLabels: false for prediction)');
    this.labelNames = [...opts.labelNames];
    this.labelIndex = new Map(this.labelNames.map((n, i) => [n, i]));
    if (this.labelIndex.size !== this.labelNames.length)
      throw new Error(`labelNames repeat a name: ${this.labelNames.join(', ')}`);
    this.multiLabel = opts.multiLabel ?? false;
    this.withLabels = opts.withLabels ?? true;
    this.tokenTypeIds = textTokenizer ? (opts.tokenTypeIds ?? pairHasTypeIds(textTokenizer)) : false;
    this.backend = opts.backend ?? 'torchvision';
    this.processorHash = configHash({ processor: imageProcessor, backend: this.backend });
    this.padId = textTokenizer ? padIdOf(textTokenizer) : 0;
    this.tweet = opts.tweetNormalize === true ? {} : opts.tweetNormalize ? opts.tweetNormalize : null;
  }

  /**
   * Tokenizer and preprocessor_config.json from one model folder (or separate folders); a null folder leaves
   * that modality out (nothing is read from it).
   */
  static fromModelDirs(textDir: string | null, imageDir: string | null, opts: PostEncoderOptions): PostEncoder {
    return new PostEncoder(
      textDir === null ? null : Tokenizer.fromModelDir(textDir),
      imageDir === null ? null : loadImageProcessorConfig(imageDir),
      opts,
    );
  }

  get readsText(): boolean {
    return this.textTokenizer !== null;
  }

  get readsImages(): boolean {
    return this.imageProcessor !== null;
  }

  /** The tokenizer (an error when this encoder reads no text). */
  get tokenizer(): Tokenizer {
    if (!this.textTokenizer) throw new Error('this post encoder reads no text: it has no tokenizer');
    return this.textTokenizer;
  }

  /** The image processor's configuration (an error when this encoder reads no images). */
  get imageConfig(): ImageProcessorConfig {
    if (!this.imageProcessor) throw new Error('this post encoder reads no images: it has no image processor');
    return this.imageProcessor;
  }

  /** The text as the tokenizer sees it (tweet-normalised when configured). */
  normaliseText(text: string): string {
    return this.tweet ? normalizeTweet(text, this.tweet) : text;
  }

  /**
   * Problems that can be seen without decoding the image: text, label, image file presence and header (each
   * modality only when this encoder reads it).
   */
  checkRow(row: Row, probe = true): BadRow | null {
    const cheap = this.checkTextAndLabel(row);
    if (cheap) return cheap;
    if (!this.readsImages) return null;
    if (row.image === null) {
      // A file the loader looked for and did not find is named (the data may have moved away from its images).
      const tried = missingImagePath(row);
      return badRow(
        row,
        'missing-image',
        tried !== undefined
          ? `image file not found: ${tried}${imagePathHint(row, tried)}`
          : 'the post has no image (text-only posts cannot be batched by an image-text model)',
      );
    }
    if (!probe) return null;
    const p = probeImage(row.image);
    if (p.ok) {
      const max = this.opts.maxPixels ?? DEFAULT_MAX_PIXELS;
      if (p.width * p.height <= max) return null;
      return badRow(
        row,
        'unreadable-image',
        `${row.image}: ${p.width}x${p.height} = ${p.width * p.height} pixels is over the limit of ${max} (raise maxPixels to allow it)`,
      );
    }
    if (p.reason === 'missing')
      return badRow(
        row,
        'missing-image',
        `image file not found: ${row.image} (${p.detail})${imagePathHint(row, row.image)}`,
      );
    // AVIF/HEIF (ISO media files) are beyond the header probe but sharp may read them: decoding decides.
    if (p.reason === 'unknown-format' && isIsoMedia(row.image)) return null;
    return badRow(row, 'unreadable-image', `${row.image}: not a readable image (${p.reason}: ${p.detail})`);
  }

  private checkTextAndLabel(row: Row): BadRow | null {
    if (this.readsText && this.normaliseText(row.text).trim() === '')
      return badRow(row, 'empty-text', 'the text is empty');
    if (!this.withLabels) return null;
    const names = this.rowLabels(row);
    if (names.length === 0) return badRow(row, 'missing-label', `no ${this.multiLabel ? "'labels'" : "'label'"} given`);
    const unknown = names.find((n) => !this.labelIndex.has(n));
    if (unknown !== undefined)
      return badRow(row, 'unknown-label', `label '${unknown}' is not one of ${this.labelNames.join(', ')}`);
    return null;
  }

  private rowLabels(row: Row): string[] {
    if (this.multiLabel) return row.labels ?? (row.label !== undefined ? [row.label] : []);
    return row.label !== undefined ? [row.label] : row.labels?.length === 1 ? [row.labels[0]!] : [];
  }

  /** An image job for this encoder's processor (used by the pool). */
  job(path: string, kind: ImageJob['kind']): ImageJob {
    const decode = this.opts.maxPixels !== undefined ? { maxPixels: this.opts.maxPixels } : {};
    return { path, kind, cfg: this.imageConfig, backend: this.backend, decode };
  }

  /**
   * Submits the rows' image jobs to the pool at once (so the workers run ahead while the caller's step
   * runs), then builds the host batch. Bad rows go to `log` (thrown under 'error', left out under 'skip');
   * returns null when no row is left. With `cached` (feature-cache mode) an image whose key it accepts is
   * only hashed, not decoded, and `pixelRows` lists the rows whose pixels the batch does carry.
   * `knownKeys` (image path -> sha1) saves re-reading files whose key is already known.
   */
  async prepare(
    rows: readonly Row[],
    pool: ImagePool,
    log: BadRowLog,
    cached?: (imageKey: string) => boolean,
    knownKeys?: Map<string, string>,
  ): Promise<HostBatch | null> {
    const ok: Row[] = [];
    for (const r of rows) {
      const b = this.checkRow(r, false);
      if (b) log.report(b);
      else ok.push(r);
    }
    if (!this.readsImages) return ok.length ? this.hostBatch(ok) : null;
    let results: ImageResult[];
    if (cached) {
      // Keys first (known ones without touching the file), then pixels only for the images not cached.
      const keyed = await Promise.all(
        ok.map((r) => {
          const k = knownKeys?.get(r.image!);
          return k !== undefined
            ? Promise.resolve<ImageResult>({ ok: true, key: k })
            : pool.run(this.job(r.image!, 'hash'));
        }),
      );
      results = await Promise.all(
        keyed.map((k, i) =>
          k.ok && !cached(k.key) ? pool.run(this.job(ok[i]!.image!, 'process')) : Promise.resolve(k),
        ),
      );
    } else {
      results = await Promise.all(ok.map((r) => pool.run(this.job(r.image!, 'process'))));
    }
    const kept: Row[] = [];
    const images: Array<ProcessedImage | undefined> = [];
    const imageKeys: string[] = [];
    results.forEach((res, i) => {
      const r = ok[i]!;
      if (!res.ok) {
        log.report(badRow(r, res.reason, res.detail));
        return;
      }
      knownKeys?.set(r.image!, res.key);
      kept.push(r);
      images.push(res.pixels);
      imageKeys.push(res.key);
    });
    if (kept.length === 0) return null;
    const pixelRows = images.flatMap((im, i) => (im ? [i] : []));
    const present = images.filter((im): im is ProcessedImage => im !== undefined);
    return {
      ...this.hostBatch(kept),
      ...(present.length ? { pixels: this.stackPixels(present) } : {}),
      ...(cached ? { pixelRows } : {}),
      imageKeys,
    };
  }

  /** Ids, text (when read) and labels of rows that passed checkRow. */
  private hostBatch(rows: readonly Row[]): HostBatch {
    return { ids: rows.map((r) => r.id), ...(this.readsText ? this.encodeText(rows) : {}), ...this.encodeLabels(rows) };
  }

  /** Tokenised text padded to the longest in the batch, truncated at maxLength; text keys. */
  encodeText(rows: readonly Row[]): { text: HostText; textKeys: string[] } {
    const tokenizer = this.tokenizer;
    const texts = rows.map((r) => this.normaliseText(r.text));
    const encs = texts.map((t) =>
      tokenizer.encode(t, null, { maxLength: this.maxLength, truncation: true, padding: false }),
    );
    const L = Math.max(1, ...encs.map((e) => e.ids.length));
    const n = rows.length;
    const inputIds = new BigInt64Array(n * L).fill(BigInt(this.padId));
    const attentionMask = new BigInt64Array(n * L);
    const tokenTypeIds = this.tokenTypeIds ? new BigInt64Array(n * L) : undefined;
    encs.forEach((e, i) => {
      for (let j = 0; j < e.ids.length; j++) {
        inputIds[i * L + j] = BigInt(e.ids[j]!);
        attentionMask[i * L + j] = 1n;
        if (tokenTypeIds) tokenTypeIds[i * L + j] = BigInt(e.type_ids[j] ?? 0);
      }
    });
    return {
      text: { inputIds, attentionMask, ...(tokenTypeIds ? { tokenTypeIds } : {}), seqLength: L },
      textKeys: texts.map(textKey),
    };
  }

  /** Label indices, or nothing when the encoder takes no labels. Rows must have passed checkRow. */
  encodeLabels(rows: readonly Row[]): Pick<HostBatch, 'labels'> {
    if (!this.withLabels) return {};
    if (!this.multiLabel)
      return {
        labels: {
          kind: 'index',
          data: BigInt64Array.from(rows, (r) => BigInt(this.labelIndex.get(this.rowLabels(r)[0]!)!)),
        },
      };
    const C = this.labelNames.length;
    const data = new Float32Array(rows.length * C);
    rows.forEach((r, i) => {
      for (const n of this.rowLabels(r)) data[i * C + this.labelIndex.get(n)!] = 1;
    });
    return { labels: { kind: 'multi', data, numLabels: C } };
  }

  /** Stacks processed images [N, 3, H, W]; a padding processor (ViLT) pads to the largest and adds pixel_mask. */
  stackPixels(images: readonly ProcessedImage[]): NonNullable<HostBatch['pixels']> {
    const n = images.length;
    if (this.imageConfig.do_pad) {
      const H = Math.max(...images.map((e) => e.height));
      const W = Math.max(...images.map((e) => e.width));
      const data = new Float32Array(n * 3 * H * W);
      const mask = new BigInt64Array(n * H * W);
      images.forEach((e, i) => {
        for (let c = 0; c < 3; c++) {
          for (let y = 0; y < e.height; y++) {
            const from = (c * e.height + y) * e.width;
            data.set(e.data.subarray(from, from + e.width), ((i * 3 + c) * H + y) * W);
          }
        }
        for (let y = 0; y < e.height; y++) mask.fill(1n, (i * H + y) * W, (i * H + y) * W + e.width);
      });
      return { data, shape: [n, 3, H, W], mask };
    }
    const { height: H, width: W } = images[0]!;
    const odd = images.findIndex((e) => e.height !== H || e.width !== W);
    if (odd >= 0) {
      throw new Error(
        `image ${odd} of the batch becomes ${images[odd]!.width}x${images[odd]!.height} but image 0 becomes ${W}x${H}: the processor neither resizes to a fixed size nor pads, so these images cannot be batched`,
      );
    }
    const data = new Float32Array(n * 3 * H * W);
    images.forEach((e, i) => data.set(e.data, i * 3 * H * W));
    return { data, shape: [n, 3, H, W] };
  }

  /** Encodes rows in one go (no prefetching): a convenience for evaluation, prediction and tests. */
  async encode(
    rows: readonly Row[],
    opts: { pool?: ImagePool; log?: BadRowLog; device?: Device } = {},
  ): Promise<PostBatch | null> {
    const pool = opts.pool ?? new ImagePool(0);
    try {
      const host = await this.prepare(rows, pool, opts.log ?? new BadRowLog('error'));
      return host ? toPostBatch(host, opts.device) : null;
    } finally {
      if (!opts.pool) await pool.close();
    }
  }
}

/**
 * Makes the tensors of a host batch (on `device`, default CPU). `features` replaces the pixels when given. A
 * batch without image keys was made by an encoder that reads no images: its PostBatch has no image.
 */
export function toPostBatch(host: HostBatch, device?: Device, features?: Tensor): PostBatch {
  const B = host.ids.length;
  const t = (data: ArrayBufferView, dtype: 'int64' | 'float32', shape: number[]): Tensor =>
    fromBuffer(data, dtype, shape, device);
  const batch: PostBatch = { size: B, ids: host.ids };
  if (host.text) {
    const L = host.text.seqLength;
    batch.text = {
      input_ids: t(host.text.inputIds, 'int64', [B, L]),
      attention_mask: t(host.text.attentionMask, 'int64', [B, L]),
      ...(host.text.tokenTypeIds ? { token_type_ids: t(host.text.tokenTypeIds, 'int64', [B, L]) } : {}),
    };
    if (host.textKeys) batch.textKeys = host.textKeys;
  }
  if (features) batch.image = { features };
  else if (host.pixels && !host.pixelRows) {
    const [, , H, W] = host.pixels.shape;
    batch.image = {
      pixel_values: t(host.pixels.data, 'float32', host.pixels.shape),
      ...(host.pixels.mask ? { pixel_mask: t(host.pixels.mask, 'int64', [B, H, W]) } : {}),
    };
  } else if (host.imageKeys)
    throw new Error('toPostBatch: the batch has no pixels for every row and no features were given');
  if (host.imageKeys) batch.imageKeys = host.imageKeys;
  if (host.labels?.kind === 'index') batch.labels = t(host.labels.data, 'int64', [B]);
  else if (host.labels?.kind === 'multi') batch.labels = t(host.labels.data, 'float32', [B, host.labels.numLabels]);
  return batch;
}

/** Frees every tensor of a batch (batches are made outside any tidy scope, so the consumer releases them). */
export function disposeBatch(batch: PostBatch): void {
  const ts: Array<Tensor | undefined> = [
    batch.text?.input_ids,
    batch.text?.attention_mask,
    batch.text?.token_type_ids,
    batch.labels,
  ];
  if (batch.image && 'features' in batch.image) ts.push(batch.image.features);
  else if (batch.image) ts.push(batch.image.pixel_values, batch.image.pixel_mask);
  for (const x of ts) if (x && !x.disposed) x.dispose();
}
