/**
 * ViLT (Kim et al. 2021): one transformer over text tokens and image patches (src/models/vilt.ts).
 *
 * As the paper's code:
 * - pair = the first-token state of the last layer (`representation: 'first-token'`; `'pooled'` reads ViLT's
 *   pooler, tanh(dense(that state)), tandem's earlier choice); classifier = dropout + Linear(pair), ITM head
 *   = Linear(pair of the swapped texts), no dropout (base.ts);
 * - ITC: textEmbeds = the text's first-token state, imageEmbeds = the first image-token state (the image
 *   [CLS], at index = text length), both of the last layer of the joint pass, with no projections: the
 *   objective's cosine similarity times exp(logit_scale), a new learnable scale initialised to 2.6592.
 *   `itcProjection: true` puts new linear projections to itcDim on both (tandem's earlier choice);
 * - ITM negatives: a full joint pass with the texts swapped (single-stream: nothing can be reused).
 * pixel_mask is passed through when the batch has one. Cached image features are not supported (ViLT has
 * no separate image encoder to freeze).
 */
import { Linear } from '../nn/index.js';
import type { Config } from '../models/common.js';
import { readViltConfig, ViltModel } from '../models/vilt.js';
import type { Tensor } from '../tensor/index.js';
import { checkHeadOptions, pixelsOf, RecipeBase, textOf, type HeadOptions } from './base.js';
import { pickRows } from './encoders.js';
import { isRepresentation, REPRESENTATIONS, type Representation } from './fusion.js';
import type { Encoding, PostBatch, PostText, RecipeConfig } from './types.js';

export interface ViltOptions extends HeadOptions {
  /** The pair: 'first-token' (default, the paper's) or 'pooled' (ViLT's pooler). */
  representation?: Representation;
  /** New linear projections to itcDim on the ITC states (default false: the paper uses the states as they are). */
  itcProjection?: boolean;
  model_config: Config;
}

export class ViltClassifier extends RecipeBase {
  readonly recipe = 'vilt';
  readonly vilt: ViltModel;
  readonly itc_text_proj: Linear | null;
  readonly itc_image_proj: Linear | null;
  readonly representation: Representation;
  readonly modelConfig: Config;

  constructor(o: ViltOptions) {
    super(o);
    checkHeadOptions(o, 'vilt');
    const r = o.representation ?? 'first-token';
    if (!isRepresentation(r))
      throw new Error(
        `vilt: "representation": ${JSON.stringify(r)} is not supported (supported: ${REPRESENTATIONS.join(', ')})`,
      );
    if (o.itcProjection !== undefined && typeof o.itcProjection !== 'boolean')
      throw new Error(`vilt: "itcProjection" must be true or false, got ${JSON.stringify(o.itcProjection)}`);
    this.representation = r;
    this.modelConfig = o.model_config;
    this.vilt = this.child('vilt', new ViltModel(readViltConfig(o.model_config, 'vilt › model_config')));
    const h = this.vilt.config.hidden_size;
    const proj = o.itcProjection ?? false;
    this.itc_text_proj = proj ? this.child('itc_text_proj', new Linear(h, this.itcDim)) : null;
    this.itc_image_proj = proj ? this.child('itc_image_proj', new Linear(h, this.itcDim)) : null;
    this.addHeads(h);
  }

  private run(batch: PostBatch, text: PostText): { pair: Tensor; textCls: Tensor; imageCls: Tensor } {
    const px = pixelsOf(batch, 'vilt');
    const out = this.vilt.forward({
      input_ids: text.input_ids,
      attention_mask: text.attention_mask,
      ...(text.token_type_ids ? { token_type_ids: text.token_type_ids } : {}),
      pixel_values: px.pixel_values,
      ...(px.pixel_mask ? { pixel_mask: px.pixel_mask } : {}),
    });
    const textCls = out.last_hidden_state.select(1, 0);
    return {
      pair: this.representation === 'pooled' ? out.pooler_output : textCls,
      textCls,
      imageCls: out.last_hidden_state.select(1, out.text_length),
    };
  }

  encode(batch: PostBatch): Encoding {
    const r = this.run(batch, textOf(batch, 'vilt'));
    return {
      textEmbeds: this.itc_text_proj ? this.itc_text_proj.forward(r.textCls) : r.textCls,
      imageEmbeds: this.itc_image_proj ? this.itc_image_proj.forward(r.imageCls) : r.imageCls,
      pair: r.pair,
    };
  }

  encodeMismatched(batch: PostBatch, _enc: Encoding, textIndex: number[]): Tensor {
    if (textIndex.length !== batch.size)
      throw new Error(`vilt.encodeMismatched: textIndex has ${textIndex.length} entries for a batch of ${batch.size}`);
    const t = textOf(batch, 'vilt');
    const swapped: PostText = {
      input_ids: pickRows(t.input_ids, textIndex),
      attention_mask: pickRows(t.attention_mask, textIndex),
      ...(t.token_type_ids ? { token_type_ids: pickRows(t.token_type_ids, textIndex) } : {}),
    };
    return this.run(batch, swapped).pair;
  }

  recipeConfig(): RecipeConfig {
    return {
      ...this.baseConfig(),
      representation: this.representation,
      itcProjection: this.itc_text_proj !== null,
      model_config: this.modelConfig,
    };
  }
}
