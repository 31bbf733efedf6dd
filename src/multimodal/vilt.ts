/**
 * ViLT (Kim et al. 2021): one transformer over text tokens and image patches (src/models/vilt.ts).
 *
 * Representations:
 * - pair = pooler_output (tanh(dense(first text token state)), ViLT's own pooler), as the paper;
 * - ITC: textEmbeds = itc_text_proj(text [CLS] state), imageEmbeds = itc_image_proj(image [CLS] state), both
 *   taken from the last layer of the joint pass (the image [CLS] sits right after the text tokens), with new
 *   linear projections to itcDim;
 * - ITM negatives: a full joint pass with the texts swapped (single-stream: nothing can be reused).
 * pixel_mask is passed through when the batch has one. Cached image features are not supported (ViLT has
 * no separate image encoder to freeze).
 */
import { Linear } from '../nn/index.js';
import type { Config } from '../models/common.js';
import { readViltConfig, ViltModel } from '../models/vilt.js';
import type { Tensor } from '../tensor/index.js';
import { checkHeadOptions, pixelsOf, RecipeBase, type HeadOptions } from './base.js';
import { pickRows } from './encoders.js';
import type { Encoding, PostBatch, RecipeConfig } from './types.js';

export interface ViltOptions extends HeadOptions {
  model_config: Config;
}

export class ViltClassifier extends RecipeBase {
  readonly recipe = 'vilt';
  readonly vilt: ViltModel;
  readonly itc_text_proj: Linear;
  readonly itc_image_proj: Linear;
  readonly modelConfig: Config;

  constructor(o: ViltOptions) {
    super(o);
    checkHeadOptions(o, 'vilt');
    this.modelConfig = o.model_config;
    this.vilt = this.child('vilt', new ViltModel(readViltConfig(o.model_config, 'vilt › model_config')));
    const h = this.vilt.config.hidden_size;
    this.itc_text_proj = this.child('itc_text_proj', new Linear(h, this.itcDim));
    this.itc_image_proj = this.child('itc_image_proj', new Linear(h, this.itcDim));
    this.addHeads(h);
  }

  private run(batch: PostBatch, text: PostBatch['text']): { pair: Tensor; textCls: Tensor; imageCls: Tensor } {
    const px = pixelsOf(batch, 'vilt');
    const out = this.vilt.forward({
      input_ids: text.input_ids,
      attention_mask: text.attention_mask,
      ...(text.token_type_ids ? { token_type_ids: text.token_type_ids } : {}),
      pixel_values: px.pixel_values,
      ...(px.pixel_mask ? { pixel_mask: px.pixel_mask } : {}),
    });
    return {
      pair: out.pooler_output,
      textCls: out.last_hidden_state.select(1, 0),
      imageCls: out.last_hidden_state.select(1, out.text_length),
    };
  }

  encode(batch: PostBatch): Encoding {
    const r = this.run(batch, batch.text);
    return {
      textEmbeds: this.itc_text_proj.forward(r.textCls),
      imageEmbeds: this.itc_image_proj.forward(r.imageCls),
      pair: r.pair,
    };
  }

  encodeMismatched(batch: PostBatch, _enc: Encoding, textIndex: number[]): Tensor {
    if (textIndex.length !== batch.size)
      throw new Error(`vilt.encodeMismatched: textIndex has ${textIndex.length} entries for a batch of ${batch.size}`);
    const t = batch.text;
    const swapped: PostBatch['text'] = {
      input_ids: pickRows(t.input_ids, textIndex),
      attention_mask: pickRows(t.attention_mask, textIndex),
      ...(t.token_type_ids ? { token_type_ids: pickRows(t.token_type_ids, textIndex) } : {}),
    };
    return this.run(batch, swapped).pair;
  }

  recipeConfig(): RecipeConfig {
    return { ...this.baseConfig(), model_config: this.modelConfig };
  }
}
