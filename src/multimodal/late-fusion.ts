/**
 * Late fusion (the paper's main family): a text encoder (BERT, RoBERTa / BERTweet, XLM-RoBERTa) and an image
 * encoder (ViT / DeiT, or the vision tower of CLIP or SigLIP) run separately; their states are fused.
 *
 * As the paper's code (a VisionTextDualEncoder with fusion heads):
 * - t = first-token state of the text encoder's last layer, v = first-token ([CLS]) state of the image
 *   encoder's last layer (`representation: 'first-token'`; `'pooled'` reads the pooler outputs instead, the
 *   default of `aspect-att`, which the paper computes over the pooled outputs);
 * - pair f = fusion(t, v) (fusion.ts: `concat`, `attention`, `aspect-att`, `gmu` as the paper; `concat-plain`,
 *   `modality-attention`, `gmu-arevalo` as tandem had them); the classifier is dropout (0.05) + Linear(f), the
 *   ITM head Linear(f) of the swapped pair, no dropout (base.ts);
 * - ITC: textEmbeds = itc_text_proj(text pooled output), imageEmbeds = itc_image_proj(image pooled output):
 *   the dual encoder's bias-free projections to itcDim (512, the paper's), temperature logit_scale (init
 *   2.6592). They sit outside the image encoder, so they train while it is frozen;
 * - ITM negatives: encodeMismatched reuses the cached unimodal states and runs only the fusion on
 *   (text[textIndex], image) (the paper's code runs both encoders again; with a frozen image encoder and the
 *   text encoder in eval mode the outputs are the same, in training mode only the text dropout differs).
 * The image encoder is frozen by default (the paper's setting): no gradients, kept in eval mode, run without
 * autograd. Its cached features (frozenImageFeatures, what the feature cache stores) are one row per image:
 * [pooled output (Dp) ; token states (n × D) flattened], n = 1 (the [CLS] state) or, when the fusion reads
 * the image tokens (`attention`), every token of the last layer. The layout is part of frozenImageKey.
 */
import { cat, type Tensor } from '../tensor/index.js';
import { inEvalMode } from '../models/common.js';
import { Linear } from '../nn/index.js';
import type { Config } from '../models/common.js';
import { checkHeadOptions, imageOf, RecipeBase, textOf, type HeadOptions } from './base.js';
import {
  buildImageEncoder,
  buildTextEncoder,
  imageHasClsToken,
  imageStates,
  imageTokenWidth,
  imageWidth,
  pickRows,
  textStates,
  weightsKey,
  type ImageEncoder,
  type TextEncoder,
} from './encoders.js';
import {
  buildFusion,
  defaultRepresentation,
  FUSIONS,
  isFusionKind,
  isRepresentation,
  mapStates,
  REPRESENTATIONS,
  type Fusion,
  type FusionKind,
  type ModalityStates,
  type Representation,
} from './fusion.js';
import type { Encoding, PostBatch, RecipeConfig } from './types.js';

/** The paper's ITC projection width (VisionTextDualEncoder's projection_dim). */
export const LATE_FUSION_ITC_DIM = 512;

export interface LateFusionOptions extends HeadOptions {
  /** Default `concat` (the paper's: ReLU fusion layer over [t; v]). */
  fusion?: FusionKind;
  /** Output width of the fusion layer (default: the text width, 768 in the paper). */
  fusionDim?: number;
  /** t and v: 'first-token' (default; `aspect-att`: 'pooled') or 'pooled'. */
  representation?: Representation;
  /** Default true (the paper's setting). */
  freezeImage?: boolean;
  /** The text model's Hugging Face config.json. */
  text_config: Config;
  /** The image model's Hugging Face config.json. */
  vision_config: Config;
}

interface LateFusionCache {
  text: ModalityStates;
  image: ModalityStates;
}

export class LateFusionClassifier extends RecipeBase {
  readonly recipe = 'late-fusion';
  readonly text_encoder: TextEncoder;
  readonly image_encoder: ImageEncoder;
  readonly fusion: Fusion;
  readonly itc_text_proj: Linear;
  readonly itc_image_proj: Linear;
  readonly freezeImage: boolean;
  readonly fusionDim: number | undefined;
  readonly textConfig: Config;
  readonly visionConfig: Config;
  /** Widths of the image pooled output and token states (the cached-feature layout). */
  readonly #imagePooledDim: number;
  readonly #imageTokenDim: number;
  /** Present only when the image encoder is frozen. */
  readonly frozenImageFeatures?: (pixels: { pixel_values: Tensor; pixel_mask?: Tensor }) => Tensor;

  constructor(o: LateFusionOptions) {
    super({ ...o, itcDim: o.itcDim ?? LATE_FUSION_ITC_DIM });
    checkHeadOptions(o, 'late-fusion');
    const kind = o.fusion ?? 'concat';
    if (!isFusionKind(kind))
      throw new Error(`late-fusion: "fusion": "${kind}" is not supported (supported: ${FUSIONS.join(', ')})`);
    const representation = o.representation ?? defaultRepresentation(kind);
    if (!isRepresentation(representation))
      throw new Error(
        `late-fusion: "representation": ${JSON.stringify(representation)} is not supported (supported: ${REPRESENTATIONS.join(', ')})`,
      );
    this.freezeImage = o.freezeImage ?? true;
    this.fusionDim = o.fusionDim;
    this.textConfig = o.text_config;
    this.visionConfig = o.vision_config;
    this.text_encoder = this.child('text_encoder', buildTextEncoder(o.text_config, 'late-fusion › text_config'));
    this.image_encoder = this.child('image_encoder', buildImageEncoder(o.vision_config, 'late-fusion › vision_config'));
    if (representation === 'first-token' && kind !== 'attention' && !imageHasClsToken(this.image_encoder))
      throw new Error(
        `late-fusion: the image encoder (${String(o.vision_config.model_type)}) has no [CLS] token, so its first-token state is a patch: set "representation": "pooled"`,
      );
    const dt = this.text_encoder.config.hidden_size;
    this.#imagePooledDim = imageWidth(this.image_encoder);
    this.#imageTokenDim = imageTokenWidth(this.image_encoder);
    this.fusion = this.child(
      'fusion',
      buildFusion(
        kind,
        { first: dt, pooled: dt },
        { first: this.#imageTokenDim, pooled: this.#imagePooledDim },
        { representation, ...(o.fusionDim !== undefined ? { fusionDim: o.fusionDim } : {}) },
      ),
    );
    this.itc_text_proj = this.child('itc_text_proj', new Linear(dt, this.itcDim, { bias: false }));
    this.itc_image_proj = this.child('itc_image_proj', new Linear(this.#imagePooledDim, this.itcDim, { bias: false }));
    this.addHeads(this.fusion.outDim);
    if (this.freezeImage) {
      this.image_encoder.freeze();
      this.frozenImageFeatures = (pixels) => this.inFrozenChunks(pixels, (c) => this.runFrozenImage(c.pixel_values));
    }
    this.train(true);
  }

  get representation(): Representation {
    return this.fusion.representation;
  }

  /** Keeps a frozen image encoder in eval mode whatever the rest does. */
  override train(mode = true): this {
    super.train(mode);
    if (this.freezeImage) this.image_encoder.eval();
    return this;
  }

  /** What a cached feature row holds: the pooled output and the [CLS] state, or every token state. */
  get featureLayout(): 'pooled+cls' | 'pooled+tokens' {
    return this.fusion.needsImageTokens ? 'pooled+tokens' : 'pooled+cls';
  }

  get frozenImageKey(): string | undefined {
    if (!this.freezeImage) return undefined;
    return `late-fusion/image:${this.featureLayout}:${weightsKey(this.image_encoder, this.visionConfig)}`;
  }

  /** The image states the fusion and ITC read, from pixels. */
  private imageSide(pixelValues: Tensor): ModalityStates {
    const s = imageStates(this.image_encoder, pixelValues);
    return {
      first: s.states.select(1, 0),
      pooled: s.pooled,
      ...(this.fusion.needsImageTokens ? { tokens: s.states } : {}),
    };
  }

  /** [B, Dp + n·D]: pooled output, then the token states (n = 1 or all), flattened. */
  private runFrozenImage(pixelValues: Tensor): Tensor {
    return inEvalMode(this.image_encoder, () => {
      const s = imageStates(this.image_encoder, pixelValues);
      const tokens = this.fusion.needsImageTokens ? s.states : s.states.narrow(1, 0, 1);
      return cat([s.pooled, tokens.flatten(1)], 1);
    });
  }

  /** Reads a cached feature row back into states. */
  private featureSide(f: Tensor): ModalityStates {
    const dp = this.#imagePooledDim;
    const d = this.#imageTokenDim;
    const n = f.ndim === 2 ? (f.size(1) - dp) / d : NaN;
    const ok = Number.isInteger(n) && n >= 1 && (this.fusion.needsImageTokens || n === 1);
    if (!ok)
      throw new Error(
        `late-fusion: cached image features must be [B, ${dp} + n·${d}] (pooled output, then ${this.fusion.needsImageTokens ? 'every token state' : 'the [CLS] state, n = 1'}; layout ${this.featureLayout}), got [${f.shape}]`,
      );
    const tokens = f.narrow(1, dp, n * d).reshape(f.size(0), n, d);
    return {
      first: tokens.select(1, 0),
      pooled: f.narrow(1, 0, dp),
      ...(this.fusion.needsImageTokens ? { tokens } : {}),
    };
  }

  /** The image states for a batch: cached features, the frozen encoder, or the trained encoder. */
  imageSideOf(batch: PostBatch): ModalityStates {
    const image = imageOf(batch, 'late-fusion');
    if ('features' in image) {
      if (!this.freezeImage)
        throw new Error(
          'late-fusion: the batch holds cached image features, but the image encoder is trained (freezeImage: false) and needs pixel_values',
        );
      return this.featureSide(image.features);
    }
    if (this.freezeImage) return this.featureSide(this.frozenImageFeatures!(image));
    return this.imageSide(image.pixel_values);
  }

  encode(batch: PostBatch): Encoding {
    const text = textStates(this.text_encoder, textOf(batch, 'late-fusion'));
    const image = this.imageSideOf(batch);
    const cache: LateFusionCache = { text, image };
    return {
      textEmbeds: this.itc_text_proj.forward(text.pooled),
      imageEmbeds: this.itc_image_proj.forward(image.pooled),
      pair: this.fusion.forward(text, image),
      cache,
    };
  }

  encodeMismatched(batch: PostBatch, enc: Encoding, textIndex: number[]): Tensor {
    const c = enc.cache as LateFusionCache | undefined;
    if (!c)
      throw new Error(
        'late-fusion.encodeMismatched: the encoding has no cache (pass the Encoding that encode() returned)',
      );
    if (textIndex.length !== c.text.first.size(0))
      throw new Error(
        `late-fusion.encodeMismatched: textIndex has ${textIndex.length} entries for a batch of ${c.text.first.size(0)}`,
      );
    return this.fusion.forward(
      mapStates(c.text, (t) => pickRows(t, textIndex)),
      c.image,
    );
  }

  recipeConfig(): RecipeConfig {
    return {
      ...this.baseConfig(),
      fusion: this.fusion.kind,
      representation: this.representation,
      ...(this.fusionDim !== undefined ? { fusionDim: this.fusionDim } : {}),
      freezeImage: this.freezeImage,
      text_config: this.textConfig,
      vision_config: this.visionConfig,
    };
  }
}
