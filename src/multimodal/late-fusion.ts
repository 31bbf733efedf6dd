/**
 * Late fusion (the paper's main family): a text encoder (BERT, RoBERTa / BERTweet, XLM-RoBERTa) and an image
 * encoder (ViT / DeiT, or the vision tower of CLIP or SigLIP) run separately; their vectors are fused.
 *
 * Representations:
 * - text vector t = the text encoder's pooled output (tanh(dense(first-token state)), BERT's pooler);
 * - image vector v = the image encoder's pooled output (ViT: pooler_output, or the final-LayerNorm [CLS] state
 *   when the checkpoint has no pooler; CLIP: post-LayerNorm [CLS]; SigLIP: attention-pooling head);
 * - ITC: textEmbeds = itc_text_proj(t), imageEmbeds = itc_image_proj(v) (new linear projections to itcDim,
 *   256 by default), temperature = this recipe's logit_scale (init ln(1/0.07));
 * - pair = fusion(t, v) (`concat`, `attention` or `gmu`, see fusion.ts); it feeds the classifier head and the
 *   ITM head, each dropout (0.05) + Linear;
 * - ITM negatives: encodeMismatched reuses the cached t and v and runs only the fusion on (t[textIndex], v).
 * The image encoder is frozen by default (the paper's setting): no gradients, kept in eval mode, run without
 * autograd; its pooled output is what frozenImageFeatures returns and the data pipeline may cache.
 */
import { type Tensor } from '../tensor/index.js';
import { inEvalMode } from '../models/common.js';
import { Linear } from '../nn/index.js';
import type { Config } from '../models/common.js';
import { checkHeadOptions, RecipeBase, type HeadOptions } from './base.js';
import {
  buildImageEncoder,
  buildTextEncoder,
  imageStates,
  imageWidth,
  pickRows,
  textPooled,
  weightsKey,
  type ImageEncoder,
  type TextEncoder,
} from './encoders.js';
import { buildFusion, FUSIONS, type Fusion, type FusionKind } from './fusion.js';
import type { Encoding, PostBatch, RecipeConfig } from './types.js';

export interface LateFusionOptions extends HeadOptions {
  fusion?: FusionKind;
  /** Width of the attention / GMU fusion output (default: the text width). */
  fusionDim?: number;
  /** Default true (the paper's setting). */
  freezeImage?: boolean;
  /** The text model's Hugging Face config.json. */
  text_config: Config;
  /** The image model's Hugging Face config.json. */
  vision_config: Config;
}

interface LateFusionCache {
  text: Tensor;
  image: Tensor;
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
  /** Present only when the image encoder is frozen. */
  readonly frozenImageFeatures?: (pixels: { pixel_values: Tensor; pixel_mask?: Tensor }) => Tensor;

  constructor(o: LateFusionOptions) {
    super(o);
    checkHeadOptions(o, 'late-fusion');
    const kind = o.fusion ?? 'concat';
    if (!(FUSIONS as readonly string[]).includes(kind))
      throw new Error(`late-fusion: "fusion": "${kind}" is not supported (supported: ${FUSIONS.join(', ')})`);
    this.freezeImage = o.freezeImage ?? true;
    this.fusionDim = o.fusionDim;
    this.textConfig = o.text_config;
    this.visionConfig = o.vision_config;
    this.text_encoder = this.child('text_encoder', buildTextEncoder(o.text_config, 'late-fusion › text_config'));
    this.image_encoder = this.child('image_encoder', buildImageEncoder(o.vision_config, 'late-fusion › vision_config'));
    const dt = this.text_encoder.config.hidden_size;
    const dv = imageWidth(this.image_encoder);
    this.fusion = this.child('fusion', buildFusion(kind, dt, dv, o.fusionDim));
    this.itc_text_proj = this.child('itc_text_proj', new Linear(dt, this.itcDim));
    this.itc_image_proj = this.child('itc_image_proj', new Linear(dv, this.itcDim));
    this.addHeads(this.fusion.outDim);
    if (this.freezeImage) {
      this.image_encoder.freeze();
      this.frozenImageFeatures = (pixels) => this.runFrozenImage(pixels.pixel_values);
    }
    this.train(true);
  }

  /** Keeps a frozen image encoder in eval mode whatever the rest does. */
  override train(mode = true): this {
    super.train(mode);
    if (this.freezeImage) this.image_encoder.eval();
    return this;
  }

  get frozenImageKey(): string | undefined {
    if (!this.freezeImage) return undefined;
    return `late-fusion/image:${weightsKey(this.image_encoder, this.visionConfig)}`;
  }

  private runFrozenImage(pixelValues: Tensor): Tensor {
    return inEvalMode(this.image_encoder, () => imageStates(this.image_encoder, pixelValues).pooled);
  }

  /** The image vector v for a batch: cached features, the frozen encoder, or the trained encoder. */
  imageVector(batch: PostBatch): Tensor {
    if ('features' in batch.image) {
      if (!this.freezeImage)
        throw new Error(
          'late-fusion: the batch holds cached image features, but the image encoder is trained (freezeImage: false) and needs pixel_values',
        );
      return batch.image.features;
    }
    if (this.freezeImage) return this.runFrozenImage(batch.image.pixel_values);
    return imageStates(this.image_encoder, batch.image.pixel_values).pooled;
  }

  encode(batch: PostBatch): Encoding {
    const t = textPooled(this.text_encoder, batch.text);
    const v = this.imageVector(batch);
    const cache: LateFusionCache = { text: t, image: v };
    return {
      textEmbeds: this.itc_text_proj.forward(t),
      imageEmbeds: this.itc_image_proj.forward(v),
      pair: this.fusion.forward(t, v),
      cache,
    };
  }

  encodeMismatched(batch: PostBatch, enc: Encoding, textIndex: number[]): Tensor {
    const c = enc.cache as LateFusionCache | undefined;
    if (!c)
      throw new Error(
        'late-fusion.encodeMismatched: the encoding has no cache (pass the Encoding that encode() returned)',
      );
    if (textIndex.length !== c.text.size(0))
      throw new Error(
        `late-fusion.encodeMismatched: textIndex has ${textIndex.length} entries for a batch of ${c.text.size(0)}`,
      );
    return this.fusion.forward(pickRows(c.text, textIndex), c.image);
  }

  recipeConfig(): RecipeConfig {
    return {
      ...this.baseConfig(),
      fusion: this.fusion.kind,
      ...(this.fusionDim !== undefined ? { fusionDim: this.fusionDim } : {}),
      freezeImage: this.freezeImage,
      text_config: this.textConfig,
      vision_config: this.visionConfig,
    };
  }
}
