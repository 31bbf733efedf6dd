/**
 * MMBT (Kiela et al. 2019, "Supervised Multimodal Bitransformers"): image features projected into the text
 * encoder's input space as extra tokens. The sequence is
 *   [CLS] img_1 … img_N [SEP] | text tokens … [SEP] (padding)
 * where the first block has its own positions (0 … N+1) and segment id 0, and the text block (the batch's
 * input_ids without their leading [CLS]) restarts its positions at 0 with segment id 1 (0 when the text model
 * has a single token type, as RoBERTa). The start and end tokens of the image block are the embeddings of
 * the text's own first token and last real token (its [CLS]/[SEP], or <s>/</s>), so no token id is assumed.
 * Built from the text encoder's public modules (embeddings, encoder layers, pooler) without changing bert.ts.
 *
 * Image tokens: the image encoder's patch states (ViT / DeiT, CLIP or SigLIP vision tower) average-pooled
 * over the raster patch sequence into N = imageTokens groups (default 3, as Kiela et al.'s N×1 pooling of a
 * ResNet grid), then projected by `modal_proj` (Linear, image width → text hidden size).
 *
 * Representations:
 * - pair = the text encoder's pooler on the [CLS] state of the full multimodal sequence;
 * - ITC: textEmbeds = itc_text_proj(pooled output of a text-only pass of the same encoder), imageEmbeds =
 *   itc_image_proj(mean of the N pooled image features) — unimodal representations, as the paper's ITC;
 * - ITM negatives: a full multimodal pass with the texts swapped (the image features are reused).
 * The image encoder is frozen by default (a feature extractor, as in the paper's MMBT); its pooled image
 * features [B, N, D] are what frozenImageFeatures returns.
 */
import { arange, cat, F, full, ones, type Tensor } from '../tensor/index.js';
import { inEvalMode } from '../models/common.js';
import { Linear } from '../nn/index.js';
import type { Config } from '../models/common.js';
import { checkHeadOptions, imageOf, RecipeBase, textOf, type HeadOptions } from './base.js';
import {
  buildImageEncoder,
  buildTextEncoder,
  imageStates,
  indexTensor,
  pickRows,
  positionOffset,
  textPooled,
  weightsKey,
  type ImageEncoder,
  type TextEncoder,
} from './encoders.js';
import type { Encoding, PostBatch, RecipeConfig } from './types.js';

export const DEFAULT_IMAGE_TOKENS = 3;

export interface MmbtOptions extends HeadOptions {
  /** Number of image tokens N (default 3). */
  imageTokens?: number;
  /** Default true. */
  freezeImage?: boolean;
  text_config: Config;
  vision_config: Config;
}

interface MmbtCache {
  /** [B, N, D] pooled image features (before modal_proj). */
  regions: Tensor;
}

export class MmbtClassifier extends RecipeBase {
  readonly recipe = 'mmbt';
  readonly text_encoder: TextEncoder;
  readonly image_encoder: ImageEncoder;
  readonly modal_proj: Linear;
  readonly itc_text_proj: Linear;
  readonly itc_image_proj: Linear;
  readonly imageTokens: number;
  readonly freezeImage: boolean;
  readonly textConfig: Config;
  readonly visionConfig: Config;
  readonly frozenImageFeatures?: (pixels: { pixel_values: Tensor; pixel_mask?: Tensor }) => Tensor;

  constructor(o: MmbtOptions) {
    super(o);
    checkHeadOptions(o, 'mmbt');
    this.imageTokens = o.imageTokens ?? DEFAULT_IMAGE_TOKENS;
    if (!Number.isInteger(this.imageTokens) || this.imageTokens < 1)
      throw new Error(`mmbt: "imageTokens" must be a positive integer, got ${o.imageTokens}`);
    this.freezeImage = o.freezeImage ?? true;
    this.textConfig = o.text_config;
    this.visionConfig = o.vision_config;
    this.text_encoder = this.child('text_encoder', buildTextEncoder(o.text_config, 'mmbt › text_config'));
    if (!this.text_encoder.pooler) throw new Error('mmbt: the text encoder has no pooler');
    this.image_encoder = this.child('image_encoder', buildImageEncoder(o.vision_config, 'mmbt › vision_config'));
    const h = this.text_encoder.config.hidden_size;
    const dv = this.image_encoder.config.hidden_size;
    this.modal_proj = this.child('modal_proj', new Linear(dv, h));
    this.itc_text_proj = this.child('itc_text_proj', new Linear(h, this.itcDim));
    this.itc_image_proj = this.child('itc_image_proj', new Linear(dv, this.itcDim));
    this.addHeads(h);
    if (this.freezeImage) {
      this.image_encoder.freeze();
      this.frozenImageFeatures = (pixels) =>
        this.inFrozenChunks(pixels, (c) => inEvalMode(this.image_encoder, () => this.imageRegions(c.pixel_values)));
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
    return `mmbt/image:${this.imageTokens}:${weightsKey(this.image_encoder, this.visionConfig)}`;
  }

  /** [B, N, D]: the patch states average-pooled into N groups along the raster sequence. */
  imageRegions(pixelValues: Tensor): Tensor {
    const s = imageStates(this.image_encoder, pixelValues);
    const patches = s.states.slice(1, s.skip);
    const [b, p, d] = patches.shape as [number, number, number];
    if (this.imageTokens > p) throw new Error(`mmbt: imageTokens (${this.imageTokens}) exceeds the ${p} image patches`);
    const map = patches.transpose(1, 2).reshape(b, d, 1, p);
    return F.adaptiveAvgPool2d(map, [1, this.imageTokens]).flatten(2).transpose(1, 2).contiguous();
  }

  private regionsOf(batch: PostBatch): Tensor {
    const image = imageOf(batch, 'mmbt');
    if ('features' in image) {
      if (!this.freezeImage)
        throw new Error(
          'mmbt: the batch holds cached image features, but the image encoder is trained (freezeImage: false) and needs pixel_values',
        );
      const f = image.features;
      if (f.ndim !== 3 || f.size(1) !== this.imageTokens)
        throw new Error(
          `mmbt: cached image features must be [B, ${this.imageTokens}, D] (imageTokens), got [${f.shape}]`,
        );
      return f;
    }
    if (this.freezeImage) return this.frozenImageFeatures!(image);
    return this.imageRegions(image.pixel_values);
  }

  /** The pooled [CLS] state of [CLS] image tokens [SEP] text… for the given text rows and image features. */
  fusedPass(inputIds: Tensor, attentionMask: Tensor, regions: Tensor): Tensor {
    const enc = this.text_encoder;
    const emb = enc.embeddings;
    const [b, l] = inputIds.shape as [number, number];
    if (regions.size(0) !== b) throw new Error(`mmbt: ${b} texts but ${regions.size(0)} images`);
    if (l < 2) throw new Error(`mmbt: input_ids need at least a first and a last token, got length ${l}`);
    const device = inputIds.device;
    const n = this.imageTokens;
    const off = positionOffset(enc);
    const ids = inputIds.dtype === 'int64' ? inputIds : inputIds.to('int64');
    const mask = attentionMask.dtype === 'int64' ? attentionMask : attentionMask.to('int64');
    // the last real token of each row (its [SEP]) closes the image block
    const lens = mask.sum(1).toArray();
    const ends = indexTensor(
      lens.map((k) => Math.max(0, k - 1)),
      device,
    ).view(b, 1);
    const first = ids.narrow(1, 0, 1);
    const last = ids.gather(1, ends);
    const imageTok = this.modal_proj.forward(regions.to(emb.word_embeddings.weight.dtype));
    const modal = cat([emb.word_embeddings.forward(first), imageTok, emb.word_embeddings.forward(last)], 1);
    const modalPos = arange(off, off + n + 2, 1, { dtype: 'int64', device }).view(1, n + 2);
    const modalType = full([b, n + 2], 0, { dtype: 'int64', device });
    const modalEmb = emb.dropout.forward(
      emb.LayerNorm.forward(
        modal.add(emb.position_embeddings.forward(modalPos)).add(emb.token_type_embeddings.forward(modalType)),
      ),
    );
    const textSegment = Math.min(1, enc.config.type_vocab_size - 1);
    const textIds = ids.narrow(1, 1, l - 1);
    const textPos = arange(off, off + l - 1, 1, { dtype: 'int64', device }).view(1, l - 1);
    const textType = full([b, l - 1], textSegment, { dtype: 'int64', device });
    const textEmb = emb.forward(textIds, textType, textPos);
    const fullMask = cat([ones([b, n + 2], { dtype: 'int64', device }), mask.narrow(1, 1, l - 1)], 1);
    const additive = enc.additiveMask(fullMask);
    let h = cat([modalEmb, textEmb], 1);
    for (const layer of enc.encoder.layer) h = layer.forward(h, additive);
    return enc.pooler!.forward(h);
  }

  encode(batch: PostBatch): Encoding {
    const regions = this.regionsOf(batch);
    const text = textOf(batch, 'mmbt');
    const pair = this.fusedPass(text.input_ids, text.attention_mask, regions);
    const t = textPooled(this.text_encoder, text);
    const cache: MmbtCache = { regions };
    return {
      textEmbeds: this.itc_text_proj.forward(t),
      imageEmbeds: this.itc_image_proj.forward(regions.mean(1)),
      pair,
      cache,
    };
  }

  encodeMismatched(batch: PostBatch, enc: Encoding, textIndex: number[]): Tensor {
    const c = enc.cache as MmbtCache | undefined;
    const regions = c?.regions ?? this.regionsOf(batch);
    if (textIndex.length !== batch.size)
      throw new Error(`mmbt.encodeMismatched: textIndex has ${textIndex.length} entries for a batch of ${batch.size}`);
    const text = textOf(batch, 'mmbt');
    return this.fusedPass(pickRows(text.input_ids, textIndex), pickRows(text.attention_mask, textIndex), regions);
  }

  recipeConfig(): RecipeConfig {
    return {
      ...this.baseConfig(),
      imageTokens: this.imageTokens,
      freezeImage: this.freezeImage,
      text_config: this.textConfig,
      vision_config: this.visionConfig,
    };
  }
}
