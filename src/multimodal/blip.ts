/**
 * BLIP (image-text retrieval checkpoints, src/models/blip.ts) as a classifier.
 *
 * Representations:
 * - pair = BLIP's fused representation (fusedPair): the first-token state of the text encoder run with
 *   cross-attention to the image embeddings, the input of BLIP's ITM head;
 * - ITM head = BLIP's own itm_head (pretrained), on pair; the classifier head is dropout (0.05) + a new Linear;
 * - ITC: textEmbeds = BLIP's text_proj of the text-only encoding's first token, imageEmbeds = BLIP's
 *   vision_proj of the image [CLS] embedding (its own projections); the temperature is a new logit_scale
 *   (init ln(1/0.07)) since the retrieval checkpoints carry none;
 * - ITM negatives: encodeMismatched reuses the cached image embeddings and reruns only the cross-attending
 *   text encoder on the swapped texts.
 */
import { type Tensor } from '../tensor/index.js';
import type { Config } from '../models/common.js';
import { BlipForImageTextRetrieval, parseBlipConfig } from '../models/blip.js';
import { checkHeadOptions, pixelsOf, RecipeBase, textOf, type HeadOptions } from './base.js';
import { pickRows } from './encoders.js';
import type { Encoding, PostBatch, RecipeConfig } from './types.js';

export interface BlipOptions extends HeadOptions {
  model_config: Config;
}

interface BlipCache {
  image: Tensor;
}

export class BlipClassifier extends RecipeBase {
  readonly recipe = 'blip';
  readonly blip: BlipForImageTextRetrieval;
  readonly modelConfig: Config;

  constructor(o: BlipOptions) {
    super(o);
    checkHeadOptions(o, 'blip');
    this.modelConfig = o.model_config;
    this.blip = this.child(
      'blip',
      new BlipForImageTextRetrieval(parseBlipConfig(o.model_config, 'blip › model_config')),
    );
    this.addHeads(this.blip.config.text_config.hidden_size, { itmHead: false });
  }

  override matchLogits(pair: Tensor): Tensor {
    return this.blip.itmHead(pair);
  }

  encode(batch: PostBatch): Encoding {
    const px = pixelsOf(batch, 'blip').pixel_values;
    const image = this.blip.imageEmbeds(px.dtype === 'float32' ? px : px.to('float32'));
    const { input_ids, attention_mask } = textOf(batch, 'blip');
    const cache: BlipCache = { image };
    return {
      textEmbeds: this.blip.textProjection(input_ids, attention_mask),
      imageEmbeds: this.blip.imageProjection(image),
      pair: this.blip.fusedPair(input_ids, attention_mask, image),
      cache,
    };
  }

  encodeMismatched(batch: PostBatch, enc: Encoding, textIndex: number[]): Tensor {
    if (textIndex.length !== batch.size)
      throw new Error(`blip.encodeMismatched: textIndex has ${textIndex.length} entries for a batch of ${batch.size}`);
    const c = enc.cache as BlipCache | undefined;
    if (!c)
      throw new Error('blip.encodeMismatched: the encoding has no cache (pass the Encoding that encode() returned)');
    const { input_ids, attention_mask } = textOf(batch, 'blip');
    return this.blip.fusedPair(pickRows(input_ids, textIndex), pickRows(attention_mask, textIndex), c.image);
  }

  recipeConfig(): RecipeConfig {
    return { ...this.baseConfig(), model_config: this.modelConfig };
  }
}
