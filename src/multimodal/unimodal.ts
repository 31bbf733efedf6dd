/**
 * The paper's unimodal baselines: a text encoder alone or an image encoder alone, each with a linear
 * classifier (dropout, then Linear) on the first-token state of its last layer (`representation:
 * 'pooled'` reads the pooler output instead).
 *
 * They implement the recipe interface for the classification loss only: with one modality there is no
 * image-text pair, so ITC (textEmbeds / imageEmbeds, logitScale) and ITM (encodeMismatched, matchLogits)
 * raise an error naming the recipe; train them with the auxiliary objectives off.
 *
 * - text-only: BERT, RoBERTa / BERTweet, XLM-RoBERTa; the batch's image is ignored.
 * - image-only: ViT / DeiT or the vision tower of CLIP (SigLIP's first token is a patch, so it needs
 *   `representation: 'pooled'`); the batch's text is ignored. The encoder trains by default, as the paper's
 *   image-only models; `freezeImage: true` freezes it, and its cached features are then the representation.
 */
import type { Tensor } from '../tensor/index.js';
import { inEvalMode, type Config } from '../models/common.js';
import { checkHeadOptions, imageOf, RecipeBase, textOf, type HeadOptions } from './base.js';
import {
  buildImageEncoder,
  buildTextEncoder,
  imageHasClsToken,
  imageStates,
  imageTokenWidth,
  imageWidth,
  textStates,
  weightsKey,
  type ImageEncoder,
  type TextEncoder,
} from './encoders.js';
import { isRepresentation, REPRESENTATIONS, type Representation } from './fusion.js';
import type { Encoding, PostBatch, RecipeConfig } from './types.js';

function checkRepresentation(r: unknown, where: string): Representation {
  if (!isRepresentation(r))
    throw new Error(
      `${where}: "representation": ${JSON.stringify(r)} is not supported (supported: ${REPRESENTATIONS.join(', ')})`,
    );
  return r;
}

/** An Encoding with only a pair: reading the ITC embeddings is an error naming the recipe. */
function pairOnly(recipe: string, pair: Tensor): Encoding {
  const refuse = (): never => {
    throw new Error(
      `${recipe}: ITC needs a text and an image embedding of each post, and this unimodal baseline has one modality (turn the auxiliary objectives off)`,
    );
  };
  return {
    get textEmbeds(): Tensor {
      return refuse();
    },
    get imageEmbeds(): Tensor {
      return refuse();
    },
    pair,
  };
}

abstract class UnimodalBase extends RecipeBase {
  abstract override readonly recipe: 'text-only' | 'image-only';

  encodeMismatched(_batch: PostBatch, _enc: Encoding, _textIndex: number[]): Tensor {
    throw new Error(`${this.recipe}: ITM pairs a text with an image, and this unimodal baseline has one modality`);
  }

  override matchLogits(_pair: Tensor): Tensor {
    throw new Error(`${this.recipe}: ITM pairs a text with an image, and this unimodal baseline has one modality`);
  }
}

export interface TextOnlyOptions extends HeadOptions {
  /** 'first-token' (default, the paper's) or 'pooled'. */
  representation?: Representation;
  /** The text model's Hugging Face config.json. */
  text_config: Config;
}

export class TextOnlyClassifier extends UnimodalBase {
  readonly recipe = 'text-only';
  readonly text_encoder: TextEncoder;
  readonly representation: Representation;
  readonly textConfig: Config;

  constructor(o: TextOnlyOptions) {
    super(o);
    checkHeadOptions(o, 'text-only');
    this.representation = checkRepresentation(o.representation ?? 'first-token', 'text-only');
    this.textConfig = o.text_config;
    this.text_encoder = this.child('text_encoder', buildTextEncoder(o.text_config, 'text-only › text_config'));
    this.addHeads(this.text_encoder.config.hidden_size, { itmHead: false, logitScale: null });
  }

  encode(batch: PostBatch): Encoding {
    const s = textStates(this.text_encoder, textOf(batch, this.recipe));
    return pairOnly(this.recipe, this.representation === 'pooled' ? s.pooled : s.first);
  }

  recipeConfig(): RecipeConfig {
    return { ...this.baseConfig(), representation: this.representation, text_config: this.textConfig };
  }
}

export interface ImageOnlyOptions extends HeadOptions {
  /** 'first-token' (default, the paper's: the [CLS] state) or 'pooled'. */
  representation?: Representation;
  /** Default false: the paper fine-tunes the image model of its image-only baselines. */
  freezeImage?: boolean;
  /** The image model's Hugging Face config.json. */
  vision_config: Config;
}

export class ImageOnlyClassifier extends UnimodalBase {
  readonly recipe = 'image-only';
  readonly image_encoder: ImageEncoder;
  readonly representation: Representation;
  readonly freezeImage: boolean;
  readonly visionConfig: Config;
  readonly frozenImageFeatures?: (pixels: { pixel_values: Tensor; pixel_mask?: Tensor }) => Tensor;

  constructor(o: ImageOnlyOptions) {
    super(o);
    checkHeadOptions(o, 'image-only');
    this.representation = checkRepresentation(o.representation ?? 'first-token', 'image-only');
    this.freezeImage = o.freezeImage ?? false;
    this.visionConfig = o.vision_config;
    this.image_encoder = this.child('image_encoder', buildImageEncoder(o.vision_config, 'image-only › vision_config'));
    if (this.representation === 'first-token' && !imageHasClsToken(this.image_encoder))
      throw new Error(
        `image-only: the image encoder (${String(o.vision_config.model_type)}) has no [CLS] token, so its first-token state is a patch: set "representation": "pooled"`,
      );
    const width =
      this.representation === 'pooled' ? imageWidth(this.image_encoder) : imageTokenWidth(this.image_encoder);
    this.addHeads(width, { itmHead: false, logitScale: null });
    if (this.freezeImage) {
      this.image_encoder.freeze();
      this.frozenImageFeatures = (pixels) =>
        this.inFrozenChunks(pixels, (c) => inEvalMode(this.image_encoder, () => this.vector(c.pixel_values)));
    }
    this.train(true);
  }

  override train(mode = true): this {
    super.train(mode);
    if (this.freezeImage) this.image_encoder.eval();
    return this;
  }

  get frozenImageKey(): string | undefined {
    if (!this.freezeImage) return undefined;
    return `image-only/${this.representation}:${weightsKey(this.image_encoder, this.visionConfig)}`;
  }

  private vector(pixelValues: Tensor): Tensor {
    const s = imageStates(this.image_encoder, pixelValues);
    return this.representation === 'pooled' ? s.pooled : s.states.select(1, 0);
  }

  encode(batch: PostBatch): Encoding {
    const image = imageOf(batch, this.recipe);
    if ('features' in image) {
      if (!this.freezeImage)
        throw new Error(
          'image-only: the batch holds cached image features, but the image encoder is trained (freezeImage: false) and needs pixel_values',
        );
      return pairOnly(this.recipe, image.features);
    }
    return pairOnly(this.recipe, this.freezeImage ? this.frozenImageFeatures!(image) : this.vector(image.pixel_values));
  }

  recipeConfig(): RecipeConfig {
    return {
      ...this.baseConfig(),
      representation: this.representation,
      freezeImage: this.freezeImage,
      vision_config: this.visionConfig,
    };
  }
}
