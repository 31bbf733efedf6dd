/**
 * CLIP and SigLIP as classifiers: the dual encoder's own towers and projections (src/models/clip.ts,
 * siglip.ts).
 *
 * Representations:
 * - ITC: textEmbeds / imageEmbeds = the model's own embeddings before normalisation (CLIP: text_projection
 *   and visual_projection of the pooled towers; SigLIP: the text head and the vision attention-pooling
 *   head), with the model's own logit_scale as the temperature (SigLIP's logit_bias is not used: the ITC
 *   objective is the softmax contrastive loss);
 * - pair = fusion(text_embeds, image_embeds) of the L2-normalised embeddings (transformers' text_embeds /
 *   image_embeds), `concat` by default (ReLU fusion layer over the two, as late fusion's); every fusion of
 *   late fusion except `attention`, which needs image token states (the towers' embeddings are single vectors);
 * - ITM negatives: encodeMismatched reuses the cached embeddings and runs only the fusion.
 * SigLIP's text tower runs without attention_mask, as SigLIP was trained (texts padded to a fixed length)
 * and as the reference pipeline calls it; it pools the last position.
 */
import { type Tensor } from '../tensor/index.js';
import type { Config } from '../models/common.js';
import { CLIPModel, readCLIPConfig } from '../models/clip.js';
import { readSiglipConfig, SiglipModel } from '../models/siglip.js';
import { checkHeadOptions, l2rows, pixelsOf, RecipeBase, textOf, type HeadOptions } from './base.js';
import { pickRows } from './encoders.js';
import { buildFusion, FUSIONS, isFusionKind, oneVector, type Fusion, type FusionKind } from './fusion.js';
import type { Encoding, PostBatch, PostText, RecipeConfig } from './types.js';

export interface DualEncoderOptions extends HeadOptions {
  fusion?: FusionKind;
  fusionDim?: number;
  model_config: Config;
}

interface DualCache {
  text: Tensor;
  image: Tensor;
}

export class DualEncoderClassifier extends RecipeBase {
  readonly recipe: 'clip' | 'siglip';
  readonly model: CLIPModel | SiglipModel;
  readonly fusion: Fusion;
  readonly fusionDim: number | undefined;
  readonly modelConfig: Config;

  constructor(recipe: 'clip' | 'siglip', o: DualEncoderOptions) {
    super(o);
    checkHeadOptions(o, recipe);
    this.recipe = recipe;
    const kind = o.fusion ?? 'concat';
    const supported = FUSIONS.filter((f) => f !== 'attention');
    if (!isFusionKind(kind) || kind === 'attention')
      throw new Error(
        `${recipe}: "fusion": "${kind}" is not supported (supported: ${supported.join(', ')}; \`attention\` reads image token states, which this recipe's single embeddings do not have)`,
      );
    this.modelConfig = o.model_config;
    this.fusionDim = o.fusionDim;
    const where = `${recipe} › model_config`;
    this.model = this.child(
      recipe,
      recipe === 'clip'
        ? new CLIPModel(readCLIPConfig(o.model_config, where))
        : new SiglipModel(readSiglipConfig(o.model_config, where)),
    );
    const d =
      this.model instanceof CLIPModel ? this.model.config.projection_dim : this.model.config.vision_config.hidden_size;
    this.fusion = this.child(
      'fusion',
      buildFusion(
        kind,
        { first: d, pooled: d },
        { first: d, pooled: d },
        o.fusionDim !== undefined ? { fusionDim: o.fusionDim } : {},
      ),
    );
    this.addHeads(this.fusion.outDim, { logitScale: this.model.logit_scale });
  }

  private embeddings(batch: PostBatch, text: PostText): { text: Tensor; image: Tensor } {
    const px = pixelsOf(batch, this.recipe).pixel_values;
    const pixels = px.dtype === 'float32' ? px : px.to('float32');
    const m = this.model;
    if (m instanceof CLIPModel) {
      return {
        text: m.text_projection.forward(m.text_model.forward(text.input_ids, text.attention_mask).pooler_output),
        image: m.visual_projection.forward(m.vision_model.forward(pixels).pooler_output),
      };
    }
    return {
      text: m.text_model.forward(text.input_ids, null).pooler_output,
      image: m.vision_model.forward(pixels).pooler_output!,
    };
  }

  encode(batch: PostBatch): Encoding {
    const e = this.embeddings(batch, textOf(batch, this.recipe));
    const cache: DualCache = { text: l2rows(e.text), image: l2rows(e.image) };
    return {
      textEmbeds: e.text,
      imageEmbeds: e.image,
      pair: this.fusion.forward(oneVector(cache.text), oneVector(cache.image)),
      cache,
    };
  }

  encodeMismatched(_batch: PostBatch, enc: Encoding, textIndex: number[]): Tensor {
    const c = enc.cache as DualCache | undefined;
    if (!c)
      throw new Error(
        `${this.recipe}.encodeMismatched: the encoding has no cache (pass the Encoding that encode() returned)`,
      );
    if (textIndex.length !== c.text.size(0))
      throw new Error(
        `${this.recipe}.encodeMismatched: textIndex has ${textIndex.length} entries for a batch of ${c.text.size(0)}`,
      );
    return this.fusion.forward(oneVector(pickRows(c.text, textIndex)), oneVector(c.image));
  }

  recipeConfig(): RecipeConfig {
    return {
      ...this.baseConfig(),
      fusion: this.fusion.kind,
      ...(this.fusionDim !== undefined ? { fusionDim: this.fusionDim } : {}),
      model_config: this.modelConfig,
    };
  }
}
