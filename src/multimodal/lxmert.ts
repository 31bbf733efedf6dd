/**
 * LXMERT (Tan & Bansal 2019): language and object-relationship encoders joined by cross-modality layers
 * (src/models/lxmert.ts). Region features come from one of two places:
 * - with an image model (ViT / DeiT, CLIP or SigLIP vision tower): its patch states turned into regions by
 *   lxmert.ts's patchRegions (the patch grid, average-pooled to `regions` [rows, cols] when given), each with
 *   its normalised box. The LXMERT config's visual_feat_dim is set to the image encoder's width; a pretrained
 *   visual projection of another width (the detector's 2048) is replaced by a new one (to be fine-tuned).
 *   The image encoder is frozen by default (it stands in for the frozen detector);
 * - without an image model: the batch must carry `image.features` [B, R, visual_feat_dim + visual_pos_dim]:
 *   the detector's region features followed by their boxes (x1, y1, x2, y2 in [0, 1]).
 * Frozen features (what frozenImageFeatures returns and a feature cache stores) use that same layout.
 *
 * Representations:
 * - pair (`representation: 'first-token'`, the paper's) = the language output's first-token state (after the
 *   cross-modality layers); the classifier is dropout(ReLU(`fusion_layer`(pair))) then Linear, as the paper's
 *   code, and the ITM head reads the pair of the swapped texts directly (Linear, no dropout);
 * - pair (`representation: 'pooled'`, tandem's earlier choice) = pooled_output (LXMERT's pooler,
 *   tanh(dense(that state))), read by both heads;
 * - ITC (`itcRepresentation: 'max-pool'`, the paper's): textEmbeds = the language output (after the
 *   cross-modality layers) max-pooled over the real tokens (padding masked), imageEmbeds = the vision output
 *   max-pooled over the regions; no projections (the objective's cosine similarity times exp(logit_scale)).
 *   The language side is detached as in the paper's code (no ITC gradient reaches the language stream through
 *   it; `itcDetachText: false` keeps it attached);
 * - ITC (`itcRepresentation: 'unimodal'`, tandem's earlier choice): textEmbeds = itc_text_proj([CLS] state after
 *   the language-only layers), imageEmbeds = itc_image_proj(mean of the region states after the relational
 *   (vision-only) layers): the unimodal states before any cross-attention (when a stream has no unimodal
 *   layers, its cross-modal output is used);
 * - ITM negatives: a full pass with the texts swapped, reusing the region features.
 */
import { cat, type Tensor } from '../tensor/index.js';
import { inEvalMode } from '../models/common.js';
import { Linear } from '../nn/index.js';
import type { Config } from '../models/common.js';
import { LxmertModel, patchRegions, readLxmertConfig } from '../models/lxmert.js';
import { checkHeadOptions, imageOf, RecipeBase, textOf, type HeadOptions } from './base.js';
import { buildImageEncoder, imageStates, pickRows, weightsKey, type ImageEncoder } from './encoders.js';
import { isRepresentation, REPRESENTATIONS, type Representation } from './fusion.js';
import type { Encoding, PostBatch, PostText, RecipeConfig } from './types.js';

export interface LxmertOptions extends HeadOptions {
  model_config: Config;
  /** The image model's config; absent: region features come in the batch. */
  vision_config?: Config;
  /** Pool the patch grid to rows x cols regions (default: every patch is a region). */
  regions?: [number, number];
  /** Default true (only with an image model). */
  freezeImage?: boolean;
  /** The pair: 'first-token' (default, the paper's, with a ReLU layer before the classifier) or 'pooled'. */
  representation?: Representation;
  /** What ITC contrasts: 'max-pool' (default, the paper's) or 'unimodal' (projected unimodal states). */
  itcRepresentation?: LxmertItc;
  /** With 'max-pool': detach the language side (default true, as the paper's code). */
  itcDetachText?: boolean;
}

export const LXMERT_ITC = ['max-pool', 'unimodal'] as const;
export type LxmertItc = (typeof LXMERT_ITC)[number];

interface LxmertCache {
  /** [B, R, feat_dim + pos_dim] */
  regions: Tensor;
}

/** [B, D]: the maximum over the real tokens of [B, L, D] states (padding set to -1e9 first, as the paper's code). */
export function maskedMaxPool(states: Tensor, attentionMask: Tensor): Tensor {
  const pad = attentionMask.eq(0).unsqueeze(2).expandAs(states);
  return states.maskedFill(pad, -1e9).maxDim(1).values;
}

/** The LXMERT config with visual_feat_dim set to the image encoder's width. */
export function lxmertConfigFor(modelConfig: Config, imageWidth: number | null): Config {
  return imageWidth === null ? modelConfig : { ...modelConfig, visual_feat_dim: imageWidth };
}

export class LxmertClassifier extends RecipeBase {
  readonly recipe = 'lxmert';
  readonly lxmert: LxmertModel;
  readonly image_encoder: ImageEncoder | null;
  readonly itc_text_proj: Linear | null;
  readonly itc_image_proj: Linear | null;
  readonly itcRepresentation: LxmertItc;
  readonly representation: Representation;
  /** The paper's ReLU layer between the first-token state and the classifier (first-token only). */
  readonly fusion_layer: Linear | null;
  readonly itcDetachText: boolean;
  readonly regions: [number, number] | null;
  readonly freezeImage: boolean;
  readonly modelConfig: Config;
  readonly visionConfig: Config | null;
  readonly frozenImageFeatures?: (pixels: { pixel_values: Tensor; pixel_mask?: Tensor }) => Tensor;

  constructor(o: LxmertOptions) {
    super(o);
    checkHeadOptions(o, 'lxmert');
    this.visionConfig = o.vision_config ?? null;
    this.regions = o.regions ?? null;
    this.freezeImage = this.visionConfig !== null && (o.freezeImage ?? true);
    this.image_encoder = this.visionConfig
      ? this.child('image_encoder', buildImageEncoder(this.visionConfig, 'lxmert › vision_config'))
      : null;
    this.modelConfig = lxmertConfigFor(
      o.model_config,
      this.image_encoder ? this.image_encoder.config.hidden_size : null,
    );
    this.lxmert = this.child('lxmert', new LxmertModel(readLxmertConfig(this.modelConfig, 'lxmert › model_config')));
    const h = this.lxmert.config.hidden_size;
    const itc = o.itcRepresentation ?? 'max-pool';
    if (!(LXMERT_ITC as readonly string[]).includes(itc))
      throw new Error(
        `lxmert: "itcRepresentation": ${JSON.stringify(itc)} is not supported (supported: ${LXMERT_ITC.join(', ')})`,
      );
    if (o.itcDetachText !== undefined && typeof o.itcDetachText !== 'boolean')
      throw new Error(`lxmert: "itcDetachText" must be true or false, got ${JSON.stringify(o.itcDetachText)}`);
    if (o.itcDetachText !== undefined && itc !== 'max-pool')
      throw new Error('lxmert: "itcDetachText" applies to itcRepresentation "max-pool" only');
    this.itcRepresentation = itc;
    this.itcDetachText = o.itcDetachText ?? true;
    const proj = itc === 'unimodal';
    this.itc_text_proj = proj ? this.child('itc_text_proj', new Linear(h, this.itcDim)) : null;
    this.itc_image_proj = proj ? this.child('itc_image_proj', new Linear(h, this.itcDim)) : null;
    const r = o.representation ?? 'first-token';
    if (!isRepresentation(r))
      throw new Error(
        `lxmert: "representation": ${JSON.stringify(r)} is not supported (supported: ${REPRESENTATIONS.join(', ')})`,
      );
    this.representation = r;
    this.fusion_layer = r === 'first-token' ? this.child('fusion_layer', new Linear(h, h)) : null;
    this.addHeads(h);
    if (this.freezeImage) {
      this.image_encoder!.freeze();
      this.frozenImageFeatures = (pixels) =>
        this.inFrozenChunks(pixels, (c) => inEvalMode(this.image_encoder!, () => this.regionFeatures(c.pixel_values)));
    }
    this.train(true);
  }

  /** The paper's classifier: dropout(ReLU(fusion_layer(first-token state))) then Linear. */
  override classify(pair: Tensor): Tensor {
    return super.classify(this.fusion_layer ? this.fusion_layer.forward(pair).relu() : pair);
  }

  private pairOf(out: { language_output: Tensor; pooled_output: Tensor }): Tensor {
    return this.representation === 'pooled' ? out.pooled_output : out.language_output.select(1, 0);
  }

  override train(mode = true): this {
    super.train(mode);
    if (this.freezeImage) this.image_encoder!.eval();
    return this;
  }

  get frozenImageKey(): string | undefined {
    if (!this.freezeImage) return undefined;
    return `lxmert/regions:${JSON.stringify(this.regions)}:${weightsKey(this.image_encoder!, this.visionConfig)}`;
  }

  /** [B, R, D + 4]: region features from the image encoder's patches, then their boxes. */
  regionFeatures(pixelValues: Tensor): Tensor {
    if (!this.image_encoder)
      throw new Error('lxmert: no image model: the batch must carry region features (image.features)');
    const s = imageStates(this.image_encoder, pixelValues);
    const r = patchRegions(s.states, s.grid, { skip: s.skip, ...(this.regions ? { regions: this.regions } : {}) });
    return cat([r.visual_feats, r.visual_pos], 2);
  }

  private regionsOf(batch: PostBatch): Tensor {
    const c = this.lxmert.config;
    const image = imageOf(batch, 'lxmert');
    if ('features' in image) {
      if (this.image_encoder && !this.freezeImage)
        throw new Error(
          'lxmert: the batch holds cached image features, but the image encoder is trained (freezeImage: false) and needs pixel_values',
        );
      const f = image.features;
      if (f.ndim !== 3 || f.size(2) !== c.visual_feat_dim + c.visual_pos_dim)
        throw new Error(
          `lxmert: image.features must be [B, regions, ${c.visual_feat_dim + c.visual_pos_dim}] (visual_feat_dim + visual_pos_dim), got [${f.shape}]`,
        );
      return f;
    }
    if (this.freezeImage) return this.frozenImageFeatures!(image);
    return this.regionFeatures(image.pixel_values);
  }

  private run(text: PostText, regions: Tensor, unimodal: boolean) {
    const c = this.lxmert.config;
    return this.lxmert.forward({
      input_ids: text.input_ids,
      attention_mask: text.attention_mask,
      ...(text.token_type_ids ? { token_type_ids: text.token_type_ids } : {}),
      visual_feats: regions.narrow(2, 0, c.visual_feat_dim),
      visual_pos: regions.narrow(2, c.visual_feat_dim, c.visual_pos_dim),
      output_hidden_states: unimodal,
    });
  }

  encode(batch: PostBatch): Encoding {
    const regions = this.regionsOf(batch);
    const unimodal = this.itcRepresentation === 'unimodal';
    const text = textOf(batch, 'lxmert');
    const out = this.run(text, regions, unimodal);
    const cache: LxmertCache = { regions };
    if (!unimodal) {
      const lang = this.itcDetachText ? out.language_output.detach() : out.language_output;
      return {
        textEmbeds: maskedMaxPool(lang, text.attention_mask),
        imageEmbeds: out.vision_output.maxDim(1).values,
        pair: this.pairOf(out),
        cache,
      };
    }
    const c = this.lxmert.config;
    const lang = c.l_layers > 0 ? out.language_hidden_states![c.l_layers - 1]! : out.language_output;
    const visn = c.r_layers > 0 ? out.vision_hidden_states![c.r_layers - 1]! : out.vision_output;
    return {
      textEmbeds: this.itc_text_proj!.forward(lang.select(1, 0)),
      imageEmbeds: this.itc_image_proj!.forward(visn.mean(1)),
      pair: this.pairOf(out),
      cache,
    };
  }

  encodeMismatched(batch: PostBatch, enc: Encoding, textIndex: number[]): Tensor {
    if (textIndex.length !== batch.size)
      throw new Error(
        `lxmert.encodeMismatched: textIndex has ${textIndex.length} entries for a batch of ${batch.size}`,
      );
    const regions = (enc.cache as LxmertCache | undefined)?.regions ?? this.regionsOf(batch);
    const t = textOf(batch, 'lxmert');
    const swapped: PostText = {
      input_ids: pickRows(t.input_ids, textIndex),
      attention_mask: pickRows(t.attention_mask, textIndex),
      ...(t.token_type_ids ? { token_type_ids: pickRows(t.token_type_ids, textIndex) } : {}),
    };
    return this.pairOf(this.run(swapped, regions, false));
  }

  recipeConfig(): RecipeConfig {
    return {
      ...this.baseConfig(),
      representation: this.representation,
      itcRepresentation: this.itcRepresentation,
      ...(this.itcRepresentation === 'max-pool' ? { itcDetachText: this.itcDetachText } : {}),
      ...(this.regions ? { regions: this.regions } : {}),
      ...(this.visionConfig ? { freezeImage: this.freezeImage, vision_config: this.visionConfig } : {}),
      model_config: this.modelConfig,
    };
  }
}
