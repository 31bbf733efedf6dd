// The one interface every classifier recipe implements, and the batch it consumes. The trainer (src/train)
// and the data pipeline (src/data) are written against these types only.
//
// Objectives read: textEmbeds / imageEmbeds -> ITC; pair -> classifier head and ITM head.
import type { Module } from '../nn/index.js';
import type { Tensor } from '../tensor/index.js';

/** What a model reads of each post: its text, its image, or both (a recipe declares which). */
export type Modality = 'text' | 'image';
export const MODALITIES: readonly Modality[] = ['text', 'image'];

/** Tokenised text, padded: int64 [B, L]. */
export interface PostText {
  input_ids: Tensor;
  attention_mask: Tensor;
  token_type_ids?: Tensor;
}

/**
 * Images: processed pixels (float32 [B, 3, H, W], ViLT also pixel_mask int64 [B, H, W]), or cached
 * outputs of a frozen image encoder (`features`, whatever frozenImageFeatures returned for these images).
 */
export type PostImage = { pixel_values: Tensor; pixel_mask?: Tensor } | { features: Tensor };

/**
 * A batch of posts as tensors (on the model's device). It carries the modalities the model reads: a
 * text-only baseline's batches have no `image` (no image was opened), an image-only one's no `text`.
 */
export interface PostBatch {
  size: number;
  /** Post ids, for logs and predictions. */
  ids: string[];
  /** Absent when the model reads no text. */
  text?: PostText;
  /** Absent when the model reads no image. */
  image?: PostImage;
  /** Class indices int64 [B] (single-label) or 0/1 float32 [B, C] (multi-label); absent at prediction. */
  labels?: Tensor;
  /**
   * Keys of each post's text and image content (hashes): equal keys are duplicates (false negatives).
   * Each is present with its modality.
   */
  textKeys?: string[];
  imageKeys?: string[];
}

/** What encode() returns. */
export interface Encoding {
  /** [B, Dt] text representation for ITC (projected where the recipe has a projection). */
  textEmbeds: Tensor;
  /** [B, Di] image representation for ITC (same width as textEmbeds). */
  imageEmbeds: Tensor;
  /** [B, Dp] the fused representation of each text with its own image. */
  pair: Tensor;
  /** Recipe-private unimodal states that encodeMismatched may reuse (for example text and image features). */
  cache?: unknown;
}

/** JSON-serialisable description of a classifier, saved as the `tandem` section of a run's config.json. */
export interface RecipeConfig {
  recipe: string;
  numLabels: number;
  labelNames: string[];
  multiLabel?: boolean;
  [option: string]: unknown;
}

export interface MultimodalClassifier extends Module {
  readonly recipe: string;
  readonly numLabels: number;
  /** The ITC temperature t (a scalar parameter, initialised to ln(1/0.07)). */
  readonly logitScale: Tensor;
  encode(batch: PostBatch): Encoding;
  /**
   * The pair representation of (text textIndex[i], image i) for ITM negatives, reusing enc.cache where the
   * architecture allows (late fusion: only the fusion runs again; single-stream models: a full pass).
   */
  encodeMismatched(batch: PostBatch, enc: Encoding, textIndex: number[]): Tensor;
  /** Class logits [B, numLabels] from pair. */
  classify(pair: Tensor): Tensor;
  /** Match logits [B, 2] (index 1 = matched) from pair. */
  matchLogits(pair: Tensor): Tensor;
  /**
   * When the image encoder is frozen: its output for pixel values, which the data pipeline may cache on
   * disk and pass back as `image.features`. Absent when the image encoder trains. The forward pass computes
   * its frozen features through this function too, in chunks of frozenImageChunk images.
   */
  frozenImageFeatures?(pixels: { pixel_values: Tensor; pixel_mask?: Tensor }): Tensor;
  /** A stable identity of the frozen image encoder (model + weights hash + processor) for the feature cache. */
  readonly frozenImageKey?: string;
  /**
   * Images per run of the frozen image encoder (undefined: each batch at once). With it set, an image's
   * frozen features are the same bits whatever other images it is computed with (frozen-chunks.ts).
   */
  readonly frozenImageChunk: number | undefined;
  setFrozenImageChunk(rows: number | undefined): void;
  /** The recipe's config (with the sub-models' Hugging Face configs), enough to rebuild it with random weights. */
  recipeConfig(): RecipeConfig;
}
