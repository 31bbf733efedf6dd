/**
 * What every recipe shares: the classifier head (dropout, then Linear(pair → numLabels); dropout 0.05 by
 * default, the paper's), the ITM head (Linear(pair → 2), index 1 = matched; no dropout, as the paper's code,
 * unless `itmDropout`), the ITC temperature `logit_scale` (initialised to ln(1/0.07) = 2.6592, as CLIP), new
 * ITC projections where a recipe has them (width `itcDim`), and the recipe options every config.json records.
 */
import { F, tensor, type Tensor } from '../tensor/index.js';
import { Dropout, Linear, Module } from '../nn/index.js';
import { checkChunkRows, inFixedChunks, type FrozenPixels } from './frozen-chunks.js';
import type { Encoding, MultimodalClassifier, PostBatch, PostImage, PostText, RecipeConfig } from './types.js';

export const DEFAULT_DROPOUT = 0.05;
export const DEFAULT_ITC_DIM = 256;
export const LOGIT_SCALE_INIT = Math.log(1 / 0.07);

/** Options shared by all recipes. */
export interface HeadOptions {
  numLabels: number;
  labelNames: string[];
  multiLabel?: boolean;
  /** Dropout before the classifier and ITM heads (default 0.05). */
  dropout?: number;
  /** Width of the new ITC projections (default 256; late fusion: 512, the paper's). */
  itcDim?: number;
  /**
   * Dropout before the ITM head too (tandem's earlier choice). Default false: the paper's code feeds the
   * fused vector of the swapped pair to its ITM head without dropout.
   */
  itmDropout?: boolean;
  /**
   * Classifier and ITM heads: 'linear' (default, the paper's) or 'mlp' (Linear → tanh → dropout → Linear, as
   * RoBERTa's classification head), which can read interactions between the modalities out of an additive
   * fusion such as concat.
   */
  head?: HeadKind;
}

export const HEAD_KINDS = ['linear', 'mlp'] as const;
export type HeadKind = (typeof HEAD_KINDS)[number];

/** dense → tanh → dropout → out_proj. */
class MlpHead extends Module {
  readonly dense: Linear;
  readonly dropout: Dropout;
  readonly out_proj: Linear;
  constructor(dim: number, out: number, p: number) {
    super();
    this.dense = this.child('dense', new Linear(dim, dim));
    this.dropout = this.child('dropout', new Dropout(p));
    this.out_proj = this.child('out_proj', new Linear(dim, out));
  }
  forward(x: Tensor): Tensor {
    return this.out_proj.forward(this.dropout.forward(this.dense.forward(x).tanh()));
  }
}

export function checkHeadOptions(o: HeadOptions, where: string): void {
  if (!Number.isInteger(o.numLabels) || o.numLabels < 1)
    throw new Error(`${where}: "numLabels" must be a positive integer, got ${JSON.stringify(o.numLabels)}`);
  if (!Array.isArray(o.labelNames) || o.labelNames.length !== o.numLabels)
    throw new Error(
      `${where}: "labelNames" must list ${o.numLabels} names (numLabels), got ${JSON.stringify(o.labelNames)}`,
    );
  if (o.dropout !== undefined && !(o.dropout >= 0 && o.dropout < 1))
    throw new Error(`${where}: "dropout" must be in [0, 1), got ${o.dropout}`);
  if (o.head !== undefined && !(HEAD_KINDS as readonly string[]).includes(o.head))
    throw new Error(
      `${where}: "head": ${JSON.stringify(o.head)} is not supported (supported: ${HEAD_KINDS.join(', ')})`,
    );
  if (o.itmDropout !== undefined && typeof o.itmDropout !== 'boolean')
    throw new Error(`${where}: "itmDropout" must be true or false, got ${JSON.stringify(o.itmDropout)}`);
  if (o.itcDim !== undefined && (!Number.isInteger(o.itcDim) || o.itcDim < 1))
    throw new Error(`${where}: "itcDim" must be a positive integer, got ${o.itcDim}`);
}

export abstract class RecipeBase extends Module implements MultimodalClassifier {
  abstract readonly recipe: string;
  readonly numLabels: number;
  readonly labelNames: string[];
  readonly multiLabel: boolean;
  readonly dropoutP: number;
  readonly itcDim: number;
  readonly head: HeadKind;
  readonly itmDropout: boolean;
  #headDropout!: Dropout;
  #classifier!: Linear | MlpHead;
  #itm: Linear | MlpHead | null = null;
  #logitScale: Tensor | null = null;
  #frozenImageChunk: number | undefined;

  constructor(o: HeadOptions) {
    super();
    this.numLabels = o.numLabels;
    this.labelNames = [...o.labelNames];
    this.multiLabel = o.multiLabel ?? false;
    this.dropoutP = o.dropout ?? DEFAULT_DROPOUT;
    this.itcDim = o.itcDim ?? DEFAULT_ITC_DIM;
    this.head = o.head ?? 'linear';
    this.itmDropout = o.itmDropout ?? false;
  }

  /**
   * Registers the heads once the pair width is known; `itmHead` false when the recipe brings its own (or has
   * no ITM), `logitScale` null when the recipe has no ITC.
   */
  protected addHeads(pairDim: number, opts: { itmHead?: boolean; logitScale?: Tensor | null } = {}): void {
    this.#headDropout = this.child('head_dropout', new Dropout(this.dropoutP));
    const make = (out: number) =>
      this.head === 'mlp' ? new MlpHead(pairDim, out, this.dropoutP) : new Linear(pairDim, out);
    this.#classifier = this.child('classifier', make(this.numLabels));
    if (opts.itmHead !== false) this.#itm = this.child('itm_head', make(2));
    this.#logitScale =
      opts.logitScale === null ? null : (opts.logitScale ?? this.param('logit_scale', tensor(LOGIT_SCALE_INIT)));
  }

  get logitScale(): Tensor {
    if (!this.#logitScale)
      throw new Error(`${this.recipe}: no ITC temperature: this recipe has no image-text pair to contrast`);
    return this.#logitScale;
  }

  classify(pair: Tensor): Tensor {
    return this.#classifier.forward(this.#headDropout.forward(pair));
  }

  matchLogits(pair: Tensor): Tensor {
    if (!this.#itm) throw new Error(`${this.recipe}: no ITM head registered`);
    return this.#itm.forward(this.itmDropout ? this.#headDropout.forward(pair) : pair);
  }

  /**
   * Images per run of a frozen image encoder (frozen-chunks.ts): set, every batch is encoded in chunks of
   * exactly this many images (the last one padded), so that an image's features are the same bits whichever
   * images share its batch; undefined (the default), each batch in one run.
   */
  get frozenImageChunk(): number | undefined {
    return this.#frozenImageChunk;
  }

  setFrozenImageChunk(rows: number | undefined): void {
    checkChunkRows(rows, this.recipe);
    this.#frozenImageChunk = rows;
  }

  /** The recipe's frozen image encoder (`encode`) on a batch's pixels, in chunks of frozenImageChunk images. */
  protected inFrozenChunks(pixels: FrozenPixels, encode: (chunk: FrozenPixels) => Tensor): Tensor {
    return inFixedChunks(pixels, this.#frozenImageChunk, encode);
  }

  /** Options every recipe config records. */
  protected baseConfig(): RecipeConfig {
    return {
      recipe: this.recipe,
      numLabels: this.numLabels,
      labelNames: [...this.labelNames],
      multiLabel: this.multiLabel,
      dropout: this.dropoutP,
      itcDim: this.itcDim,
      itmDropout: this.itmDropout,
      ...(this.head !== 'linear' ? { head: this.head } : {}),
    };
  }

  abstract encode(batch: PostBatch): Encoding;
  abstract encodeMismatched(batch: PostBatch, enc: Encoding, textIndex: number[]): Tensor;
  abstract recipeConfig(): RecipeConfig;
}

/** The batch's text, or an error naming the recipe when the pipeline left the text out. */
export function textOf(batch: PostBatch, recipe: string): PostText {
  if (!batch.text)
    throw new Error(
      `${recipe}: the batch has no text (its data pipeline was set up for a model that reads only images)`,
    );
  return batch.text;
}

/** The batch's image (pixels or cached features), or an error naming the recipe when it has none. */
export function imageOf(batch: PostBatch, recipe: string): PostImage {
  if (!batch.image)
    throw new Error(
      `${recipe}: the batch has no images (its data pipeline was set up for a model that reads only text)`,
    );
  return batch.image;
}

/** The pixels of a batch, or an error naming the recipe when the batch holds cached features (or no image). */
export function pixelsOf(batch: PostBatch, recipe: string): { pixel_values: Tensor; pixel_mask?: Tensor } {
  const image = imageOf(batch, recipe);
  if ('features' in image)
    throw new Error(
      `${recipe}: the batch holds cached image features, but this recipe (image encoder not frozen) needs pixel_values`,
    );
  return image;
}

/** Checks a textIndex: one in-range index per post. */
export function checkTextIndex(textIndex: number[], size: number, recipe: string): void {
  if (textIndex.length !== size)
    throw new Error(`${recipe}.encodeMismatched: textIndex has ${textIndex.length} entries for a batch of ${size}`);
  for (const i of textIndex)
    if (!Number.isInteger(i) || i < 0 || i >= size)
      throw new Error(`${recipe}.encodeMismatched: textIndex entry ${i} is out of range [0, ${size})`);
}

/** L2-normalised rows (for pairs built from contrastive embeddings). */
export function l2rows(x: Tensor): Tensor {
  return F.normalize(x, { dim: -1 });
}
