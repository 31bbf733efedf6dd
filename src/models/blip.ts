/**
 * BLIP for image-text retrieval (Hugging Face `BlipForImageTextRetrieval`, model_type "blip", checkpoints such as
 * `Salesforce/blip-itm-base-coco`): a ViT image encoder (pre-LayerNorm layers with a fused `qkv` projection and a
 * final `post_layernorm`), a BERT-like text encoder (post-LayerNorm layers, absolute positions) whose layers
 * cross-attend to the image tokens when `text_config.is_decoder` is true (as every BLIP checkpoint sets it), the
 * image-text matching head `itm_head` on the first token of the fused text encoding (`itm_score` [B, 2]), and the
 * contrastive path: `vision_proj` / `text_proj` of the first tokens, L2-normalised, `cosine_sim` = image · textᵀ
 * (the reference's `use_itm_head=False`, where the text is encoded without the image). Position embeddings of the
 * image encoder are interpolated bicubically for other image sizes when asked (`interpolate_pos_encoding`).
 * Not supported: the captioning and question-answering heads (`BlipForConditionalGeneration`,
 * `BlipForQuestionAnswering`, the text decoder), the older `BlipModel`, relative position embeddings in the text
 * encoder, key/value caches, head masks and causal (decoder-mode) text masks.
 */
import { cat, F, noGrad, tidy, zeros, type DType, type Tensor } from '../tensor/index.js';
import { Conv2d, Dropout, Embedding, LayerNorm, Linear, Module, ModuleList } from '../nn/index.js';
import { normal, ones_, truncNormal, zeros_ } from '../nn/init.js';
import type { TensorSource } from '../io/safetensors.js';
import {
  ConfigReader,
  engineActivation,
  HIDDEN_ACTS,
  loadCheckpointInto,
  mergeHeads,
  splitHeads,
  type Config,
  type HiddenAct,
} from './common.js';
import type { ModelFamily } from './family.js';

// ---------------------------------------------------------------------------------------------------------
// Configuration (Hugging Face field names and defaults of BlipConfig / BlipVisionConfig / BlipTextConfig)

export interface BlipVisionConfig {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_channels: number;
  image_size: number;
  patch_size: number;
  hidden_act: HiddenAct;
  layer_norm_eps: number;
  attention_dropout: number;
  initializer_range: number;
}

export interface BlipTextConfig {
  vocab_size: number;
  hidden_size: number;
  encoder_hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  max_position_embeddings: number;
  hidden_act: HiddenAct;
  layer_norm_eps: number;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  pad_token_id: number;
  /** True in BLIP checkpoints: each text layer has a cross-attention block to the image tokens. */
  is_decoder: boolean;
  initializer_range: number;
}

export interface BlipConfig {
  model_type: 'blip';
  architectures: string[];
  image_text_hidden_size: number;
  initializer_range: number;
  vision_config: BlipVisionConfig;
  text_config: BlipTextConfig;
}

export const SUPPORTED_ARCHITECTURES = ['BlipForImageTextRetrieval'] as const;

function headsDivide(r: ConfigReader, hidden: number, heads: number): void {
  if (heads < 1 || hidden % heads !== 0)
    throw new Error(
      `${r.where}: field "hidden_size" (${hidden}) must be a multiple of "num_attention_heads" (${heads})`,
    );
}

function positiveInt(r: ConfigReader, key: string, dflt: number): number {
  const v = r.int(key, dflt);
  if (v < 1) throw new Error(`${r.where}: field "${key}" must be a positive integer, got ${v}`);
  return v;
}

function probability(r: ConfigReader, key: string, dflt: number): number {
  const v = r.num(key, dflt);
  if (v < 0 || v > 1) throw new Error(`${r.where}: field "${key}" must be a probability in [0, 1], got ${v}`);
  return v;
}

export function parseBlipVisionConfig(r: ConfigReader): BlipVisionConfig {
  const c: BlipVisionConfig = {
    hidden_size: positiveInt(r, 'hidden_size', 768),
    intermediate_size: positiveInt(r, 'intermediate_size', 3072),
    num_hidden_layers: r.int('num_hidden_layers', 12),
    num_attention_heads: positiveInt(r, 'num_attention_heads', 12),
    num_channels: r.int('num_channels', 3),
    image_size: positiveInt(r, 'image_size', 384),
    patch_size: positiveInt(r, 'patch_size', 16),
    hidden_act: r.oneOf('hidden_act', HIDDEN_ACTS, 'gelu'),
    layer_norm_eps: r.num('layer_norm_eps', 1e-5),
    attention_dropout: probability(r, 'attention_dropout', 0),
    initializer_range: r.num('initializer_range', 1e-10),
  };
  headsDivide(r, c.hidden_size, c.num_attention_heads);
  // The reference builds its patch convolution with 3 input channels whatever the config says.
  if (c.num_channels !== 3)
    throw new Error(`${r.where}: "num_channels": ${c.num_channels} is not supported (supported: 3)`);
  if (c.image_size % c.patch_size !== 0)
    throw new Error(
      `${r.where}: field "image_size" (${c.image_size}) must be a multiple of "patch_size" (${c.patch_size})`,
    );
  return c;
}

export function parseBlipTextConfig(r: ConfigReader): BlipTextConfig {
  const hidden = positiveInt(r, 'hidden_size', 768);
  const c: BlipTextConfig = {
    vocab_size: positiveInt(r, 'vocab_size', 30524),
    hidden_size: hidden,
    encoder_hidden_size: positiveInt(r, 'encoder_hidden_size', 768),
    intermediate_size: positiveInt(r, 'intermediate_size', 3072),
    num_hidden_layers: r.int('num_hidden_layers', 12),
    num_attention_heads: positiveInt(r, 'num_attention_heads', 8),
    max_position_embeddings: positiveInt(r, 'max_position_embeddings', 512),
    hidden_act: r.oneOf('hidden_act', HIDDEN_ACTS, 'gelu'),
    layer_norm_eps: r.num('layer_norm_eps', 1e-12),
    hidden_dropout_prob: probability(r, 'hidden_dropout_prob', 0),
    attention_probs_dropout_prob: probability(r, 'attention_probs_dropout_prob', 0),
    pad_token_id: r.int('pad_token_id', 0),
    is_decoder: r.bool('is_decoder', true),
    initializer_range: r.num('initializer_range', 0.02),
  };
  headsDivide(r, c.hidden_size, c.num_attention_heads);
  r.oneOf('position_embedding_type', ['absolute'], 'absolute');
  return c;
}

/** Reads and checks a BLIP config.json object; `where` names the file in errors. */
export function parseBlipConfig(config: Config, where = 'config.json'): BlipConfig {
  const r = new ConfigReader(config, where);
  const modelType = r.str('model_type', 'blip');
  if (modelType !== 'blip')
    throw new Error(`${where}: "model_type": "${modelType}" is not supported by the blip family (supported: blip)`);
  const archs = config.architectures;
  if (archs !== undefined && archs !== null) {
    if (!Array.isArray(archs) || archs.some((a) => typeof a !== 'string'))
      throw new Error(`${where}: field "architectures" must be a list of class names, got ${JSON.stringify(archs)}`);
    const unsupported = (archs as string[]).filter((a) => !(SUPPORTED_ARCHITECTURES as readonly string[]).includes(a));
    if (unsupported.length)
      throw new Error(
        `${where}: "architectures": ${unsupported.join(', ')} is not supported (supported: ${SUPPORTED_ARCHITECTURES.join(', ')})`,
      );
  }
  return {
    model_type: 'blip',
    architectures: [...SUPPORTED_ARCHITECTURES],
    image_text_hidden_size: positiveInt(r, 'image_text_hidden_size', 256),
    initializer_range: r.num('initializer_range', 0.02),
    vision_config: parseBlipVisionConfig(r.section('vision_config')),
    text_config: parseBlipTextConfig(r.section('text_config')),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Vision encoder (BlipVisionModel)

export class BlipVisionEmbeddings extends Module {
  readonly class_embedding: Tensor;
  readonly patch_embedding: Conv2d;
  readonly position_embedding: Tensor;
  readonly numPositions: number;
  constructor(readonly config: BlipVisionConfig) {
    super();
    const h = config.hidden_size;
    const p = config.patch_size;
    this.numPositions = (config.image_size / p) ** 2 + 1;
    this.class_embedding = this.param('class_embedding', truncNormal(zeros([1, 1, h]), 0, config.initializer_range));
    this.patch_embedding = this.child('patch_embedding', new Conv2d(config.num_channels, h, p, { stride: p }));
    this.position_embedding = this.param(
      'position_embedding',
      truncNormal(zeros([1, this.numPositions, h]), 0, config.initializer_range),
    );
  }

  /** The position embeddings resized (bicubic, as the reference) to a grid of height/patch x width/patch. */
  interpolatePositions(height: number, width: number): Tensor {
    const p = this.config.patch_size;
    const gridH = Math.floor(height / p);
    const gridW = Math.floor(width / p);
    const trained = this.numPositions - 1;
    if (gridH * gridW === trained && height === width) return this.position_embedding;
    const side = Math.round(Math.sqrt(trained));
    const dim = this.config.hidden_size;
    const classPos = this.position_embedding.slice(1, 0, 1);
    const grid = this.position_embedding.slice(1, 1).reshape(1, side, side, dim).permute(0, 3, 1, 2);
    const resized = F.interpolate(grid, { size: [gridH, gridW], mode: 'bicubic', alignCorners: false });
    const patchPos = resized.permute(0, 2, 3, 1).reshape(1, gridH * gridW, dim);
    return cat([classPos, patchPos], 1);
  }

  forward(pixelValues: Tensor, interpolatePosEncoding = false): Tensor {
    if (pixelValues.ndim !== 4 || pixelValues.size(1) !== this.config.num_channels)
      throw new Error(
        `BLIP vision: pixel_values must be [batch, ${this.config.num_channels}, height, width], got [${pixelValues.shape}]`,
      );
    const [b, , height, width] = pixelValues.shape as [number, number, number, number];
    const dtype = this.patch_embedding.weight.dtype;
    const x = pixelValues.dtype === dtype ? pixelValues : pixelValues.to(dtype);
    const patches = this.patch_embedding.forward(x).flatten(2).transpose(1, 2);
    const cls = this.class_embedding.expand(b, 1, this.config.hidden_size);
    const tokens = cat([cls, patches], 1);
    const len = tokens.size(1);
    if (interpolatePosEncoding) return tokens.add(this.interpolatePositions(height, width));
    if (len > this.numPositions)
      throw new Error(
        `BLIP vision: a ${height}x${width} image gives ${len - 1} patches but the position embeddings cover ${this.numPositions - 1} ` +
          `(image_size ${this.config.image_size}); resize the image or pass interpolate_pos_encoding`,
      );
    // The reference adds the first `len` positions, so smaller images run without interpolation.
    return tokens.add(this.position_embedding.slice(1, 0, len));
  }
}

export class BlipAttention extends Module {
  readonly qkv: Linear;
  readonly projection: Linear;
  readonly heads: number;
  constructor(readonly config: BlipVisionConfig) {
    super();
    const h = config.hidden_size;
    this.heads = config.num_attention_heads;
    this.qkv = this.child('qkv', new Linear(h, 3 * h));
    this.projection = this.child('projection', new Linear(h, h));
  }
  forward(x: Tensor): Tensor {
    const [b, l, h] = x.shape as [number, number, number];
    // qkv's output is laid out [q | k | v], each split into heads.
    const [q, k, v] = this.qkv
      .forward(x)
      .reshape(b, l, 3, this.heads, h / this.heads)
      .permute(2, 0, 3, 1, 4)
      .unbind(0) as [Tensor, Tensor, Tensor];
    const ctx = F.attention(q, k, v, { dropout: this.config.attention_dropout, training: this.training });
    return this.projection.forward(mergeHeads(ctx));
  }
}

export class BlipMLP extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  constructor(readonly config: BlipVisionConfig) {
    super();
    this.fc1 = this.child('fc1', new Linear(config.hidden_size, config.intermediate_size));
    this.fc2 = this.child('fc2', new Linear(config.intermediate_size, config.hidden_size));
  }
  forward(x: Tensor): Tensor {
    return F.mlp(
      x,
      this.fc1.weight,
      this.fc1.bias,
      this.fc2.weight,
      this.fc2.bias,
      engineActivation(this.config.hidden_act),
    );
  }
}

export class BlipEncoderLayer extends Module {
  readonly self_attn: BlipAttention;
  readonly layer_norm1: LayerNorm;
  readonly mlp: BlipMLP;
  readonly layer_norm2: LayerNorm;
  constructor(config: BlipVisionConfig) {
    super();
    this.self_attn = this.child('self_attn', new BlipAttention(config));
    this.layer_norm1 = this.child('layer_norm1', new LayerNorm(config.hidden_size, config.layer_norm_eps));
    this.mlp = this.child('mlp', new BlipMLP(config));
    this.layer_norm2 = this.child('layer_norm2', new LayerNorm(config.hidden_size, config.layer_norm_eps));
  }
  forward(x: Tensor): Tensor {
    const h = x.add(this.self_attn.forward(this.layer_norm1.forward(x)));
    return h.add(this.mlp.forward(this.layer_norm2.forward(h)));
  }
}

export class BlipEncoder extends Module {
  readonly layers: ModuleList<BlipEncoderLayer>;
  constructor(config: BlipVisionConfig) {
    super();
    this.layers = this.child(
      'layers',
      new ModuleList(Array.from({ length: config.num_hidden_layers }, () => new BlipEncoderLayer(config))),
    );
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (const layer of this.layers) {
      const x = h;
      h = tidy(() => layer.forward(x)); // per-layer scope: temporaries go when the layer returns
    }
    return h;
  }
}

export class BlipVisionModel extends Module {
  readonly embeddings: BlipVisionEmbeddings;
  readonly encoder: BlipEncoder;
  readonly post_layernorm: LayerNorm;
  constructor(readonly config: BlipVisionConfig) {
    super();
    this.embeddings = this.child('embeddings', new BlipVisionEmbeddings(config));
    this.encoder = this.child('encoder', new BlipEncoder(config));
    this.post_layernorm = this.child('post_layernorm', new LayerNorm(config.hidden_size, config.layer_norm_eps));
  }
  /** last_hidden_state [B, 1 + patches, hidden] (after post_layernorm): BLIP's image embeddings. */
  forward(pixelValues: Tensor, interpolatePosEncoding = false): Tensor {
    return this.post_layernorm.forward(
      this.encoder.forward(this.embeddings.forward(pixelValues, interpolatePosEncoding)),
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Text encoder (BlipTextModel without pooler)

export class BlipTextEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;
  constructor(readonly config: BlipTextConfig) {
    super();
    this.word_embeddings = this.child(
      'word_embeddings',
      new Embedding(config.vocab_size, config.hidden_size, { paddingIdx: config.pad_token_id }),
    );
    this.position_embeddings = this.child(
      'position_embeddings',
      new Embedding(config.max_position_embeddings, config.hidden_size),
    );
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(config.hidden_size, config.layer_norm_eps));
  }
  forward(inputIds: Tensor): Tensor {
    const len = inputIds.size(1);
    if (len > this.config.max_position_embeddings)
      throw new Error(
        `BLIP text: input_ids has ${len} tokens, more than max_position_embeddings (${this.config.max_position_embeddings})`,
      );
    const words = this.word_embeddings.forward(inputIds);
    // Positions 0..len-1, the first rows of the table (the reference's position_ids buffer).
    const positions = this.position_embeddings.weight.slice(0, 0, len);
    const e = this.LayerNorm.forward(words.add(positions));
    return F.dropout(e, this.config.hidden_dropout_prob, this.training);
  }
}

export class BlipTextSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  constructor(
    readonly config: BlipTextConfig,
    isCrossAttention: boolean,
  ) {
    super();
    const h = config.hidden_size;
    const kvIn = isCrossAttention ? config.encoder_hidden_size : h;
    this.query = this.child('query', new Linear(h, h));
    this.key = this.child('key', new Linear(kvIn, h));
    this.value = this.child('value', new Linear(kvIn, h));
  }
  /** Attention of x's tokens to `context` (x itself for self-attention) with an additive mask [B, 1, 1, Lk]. */
  forward(x: Tensor, context: Tensor, mask: Tensor | null): Tensor {
    const heads = this.config.num_attention_heads;
    const q = splitHeads(this.query.forward(x), heads);
    const k = splitHeads(this.key.forward(context), heads);
    const v = splitHeads(this.value.forward(context), heads);
    const ctx = F.attention(q, k, v, {
      mask,
      dropout: this.config.attention_probs_dropout_prob,
      training: this.training,
    });
    return mergeHeads(ctx);
  }
}

/** dense -> dropout -> LayerNorm(x + residual): the output block after (cross-)attention and after the MLP. */
// Copied from models/bert.ts BertResidualOutput (names: Bert->BlipText)
export class BlipTextResidualOutput extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;
  constructor(config: BlipTextConfig, inFeatures: number) {
    super();
    this.dense = this.child('dense', new Linear(inFeatures, config.hidden_size));
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(config.hidden_size, config.layer_norm_eps));
    this.dropout = this.child('dropout', new Dropout(config.hidden_dropout_prob));
  }
  forward(x: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(this.dropout.forward(this.dense.forward(x)).add(residual));
  }
}

export class BlipTextAttention extends Module {
  readonly self: BlipTextSelfAttention;
  readonly output: BlipTextResidualOutput;
  constructor(config: BlipTextConfig, isCrossAttention = false) {
    super();
    this.self = this.child('self', new BlipTextSelfAttention(config, isCrossAttention));
    this.output = this.child('output', new BlipTextResidualOutput(config, config.hidden_size));
  }
  forward(x: Tensor, context: Tensor, mask: Tensor | null): Tensor {
    return this.output.forward(this.self.forward(x, context, mask), x);
  }
}

// The feed-forward block's first parameters; BlipTextLayer runs dense -> act -> dense as one fused F.mlp call.
// Copied from models/bert.ts BertIntermediate (names: Bert->BlipText)
export class BlipTextIntermediate extends Module {
  readonly dense: Linear;
  constructor(config: BlipTextConfig) {
    super();
    this.dense = this.child('dense', new Linear(config.hidden_size, config.intermediate_size));
  }
}

export class BlipTextLayer extends Module {
  readonly attention: BlipTextAttention;
  readonly crossattention: BlipTextAttention | null;
  readonly intermediate: BlipTextIntermediate;
  readonly output: BlipTextResidualOutput;
  constructor(readonly config: BlipTextConfig) {
    super();
    this.attention = this.child('attention', new BlipTextAttention(config));
    this.crossattention = config.is_decoder ? this.child('crossattention', new BlipTextAttention(config, true)) : null;
    this.intermediate = this.child('intermediate', new BlipTextIntermediate(config));
    this.output = this.child('output', new BlipTextResidualOutput(config, config.intermediate_size));
  }
  /** One layer; with `image` (encoder_hidden_states) the tokens also cross-attend to the image tokens. */
  forward(x: Tensor, mask: Tensor | null, image: Tensor | null): Tensor {
    let h = this.attention.forward(x, x, mask);
    if (image) {
      if (!this.crossattention)
        throw new Error(
          'BLIP text: text_config.is_decoder is false, so the text layers have no cross-attention to the image (ITM needs it)',
        );
      // Every image token is attended (the reference's image mask is all ones).
      h = this.crossattention.forward(h, image, null);
    }
    const inter = this.intermediate.dense;
    const out = this.output.dense;
    const ff = F.mlp(h, inter.weight, inter.bias, out.weight, out.bias, engineActivation(this.config.hidden_act));
    return this.output.LayerNorm.forward(F.dropout(ff, this.config.hidden_dropout_prob, this.training).add(h));
  }
}

export class BlipTextEncoder extends Module {
  readonly layer: ModuleList<BlipTextLayer>;
  constructor(config: BlipTextConfig) {
    super();
    this.layer = this.child(
      'layer',
      new ModuleList(Array.from({ length: config.num_hidden_layers }, () => new BlipTextLayer(config))),
    );
  }
  forward(x: Tensor, mask: Tensor | null, image: Tensor | null): Tensor {
    let h = x;
    for (const layer of this.layer) {
      const x = h;
      h = tidy(() => layer.forward(x, mask, image));
    }
    return h;
  }
}

export class BlipTextModel extends Module {
  readonly embeddings: BlipTextEmbeddings;
  readonly encoder: BlipTextEncoder;
  constructor(readonly config: BlipTextConfig) {
    super();
    this.embeddings = this.child('embeddings', new BlipTextEmbeddings(config));
    this.encoder = this.child('encoder', new BlipTextEncoder(config));
  }
  /**
   * last_hidden_state [B, L, hidden]. attentionMask: 0/1 [B, L] (padding = 0); encoderHiddenStates: image
   * embeddings [B, N, encoder_hidden_size] to cross-attend to, or null for the text-only encoding.
   */
  forward(inputIds: Tensor, attentionMask: Tensor | null, encoderHiddenStates: Tensor | null): Tensor {
    if (inputIds.ndim !== 2) throw new Error(`BLIP text: input_ids must be [batch, length], got [${inputIds.shape}]`);
    if (attentionMask && attentionMask.shape.join() !== inputIds.shape.join())
      throw new Error(
        `BLIP text: attention_mask [${attentionMask.shape}] must have the shape of input_ids [${inputIds.shape}]`,
      );
    if (encoderHiddenStates && encoderHiddenStates.size(-1) !== this.config.encoder_hidden_size)
      throw new Error(
        `BLIP text: image embeddings have width ${encoderHiddenStates.size(-1)} but text_config.encoder_hidden_size is ${this.config.encoder_hidden_size}`,
      );
    // The additive mask takes the weights' dtype (-10000 fits float16 too).
    const mask = attentionMask ? textAttentionMask(attentionMask, this.embeddings.word_embeddings.weight.dtype) : null;
    return this.encoder.forward(this.embeddings.forward(inputIds), mask, encoderHiddenStates);
  }
}

/** BlipTextModel's additive self-attention mask: (1 - mask) * -10000, shaped [B, 1, 1, L]. */
function textAttentionMask(mask: Tensor, dtype: DType): Tensor {
  const [b, l] = mask.shape as [number, number];
  return mask.to(dtype).view(b, 1, 1, l).rsub(1).mul(-10000);
}

// ---------------------------------------------------------------------------------------------------------
// The retrieval model

export interface BlipRetrievalOutput {
  /** itm_head logits [B, 2] (index 1 = matched). */
  itm_score: Tensor;
  /** normalised image features · normalised text featuresᵀ [B_image, B_text]. */
  cosine_sim: Tensor;
}

export class BlipForImageTextRetrieval extends Module {
  readonly vision_model: BlipVisionModel;
  readonly text_encoder: BlipTextModel;
  readonly vision_proj: Linear;
  readonly text_proj: Linear;
  readonly itm_head: Linear;
  constructor(readonly config: BlipConfig) {
    super();
    const v = config.vision_config;
    const t = config.text_config;
    this.vision_model = this.child('vision_model', new BlipVisionModel(v));
    this.text_encoder = this.child('text_encoder', new BlipTextModel(t));
    this.vision_proj = this.child('vision_proj', new Linear(v.hidden_size, config.image_text_hidden_size));
    this.text_proj = this.child('text_proj', new Linear(t.hidden_size, config.image_text_hidden_size));
    this.itm_head = this.child('itm_head', new Linear(t.hidden_size, 2));
    initBlipWeights(this);
  }

  /** Image embeddings: the vision encoder's last_hidden_state [B, 1 + patches, vision hidden] (first row = [CLS]). */
  imageEmbeds(pixelValues: Tensor, opts: { interpolatePosEncoding?: boolean } = {}): Tensor {
    return this.vision_model.forward(pixelValues, opts.interpolatePosEncoding ?? false);
  }

  /**
   * The fused pair representation [B, text hidden]: the first-token state of the text encoder run with
   * cross-attention to the image embeddings (what itm_head reads). Row i pairs text i with image i.
   */
  fusedPair(inputIds: Tensor, attentionMask: Tensor | null, imageEmbeds: Tensor): Tensor {
    if (imageEmbeds.size(0) !== inputIds.size(0))
      throw new Error(
        `BLIP: ${inputIds.size(0)} texts but ${imageEmbeds.size(0)} images; the fused encoding pairs them row by row`,
      );
    return this.text_encoder.forward(inputIds, attentionMask, imageEmbeds).select(1, 0);
  }

  /** ITM logits [B, 2] from a fused pair representation. */
  itmHead(pair: Tensor): Tensor {
    return this.itm_head.forward(pair);
  }

  /** ITC image projection [B, image_text_hidden_size] of the [CLS] image embedding (not normalised). */
  imageProjection(imageEmbeds: Tensor): Tensor {
    return this.vision_proj.forward(imageEmbeds.select(1, 0));
  }

  /** ITC text projection [B, image_text_hidden_size] of the first token of the text-only encoding (not normalised). */
  textProjection(inputIds: Tensor, attentionMask: Tensor | null): Tensor {
    return this.text_proj.forward(this.text_encoder.forward(inputIds, attentionMask, null).select(1, 0));
  }

  /** The reference's use_itm_head=False output: normalize(image proj) · normalize(text proj)ᵀ. */
  cosineSim(imageProjection: Tensor, textProjection: Tensor): Tensor {
    const img = F.normalize(imageProjection, { dim: -1 });
    const txt = F.normalize(textProjection, { dim: -1 });
    return img.matmul(txt.T);
  }

  /** Both reference outputs from one vision pass. */
  forward(
    inputIds: Tensor,
    pixelValues: Tensor,
    attentionMask: Tensor | null = null,
    opts: { interpolatePosEncoding?: boolean } = {},
  ): BlipRetrievalOutput {
    const image = this.imageEmbeds(pixelValues, opts);
    const itm_score = this.itmHead(this.fusedPair(inputIds, attentionMask, image));
    const cosine_sim = this.cosineSim(this.imageProjection(image), this.textProjection(inputIds, attentionMask));
    return { itm_score, cosine_sim };
  }
}

/** Mean cross-entropy of itm_score [B, 2] against itm_labels [B] (1 = matched), the golden itm_loss. */
export function itmLoss(itmScore: Tensor, itmLabels: Tensor): Tensor {
  return F.crossEntropy(itmScore, itmLabels.dtype === 'int64' ? itmLabels : itmLabels.to('int64'));
}

/**
 * BlipPreTrainedModel._init_weights as transformers 5 applies it (each sub-model with its own config): Linear,
 * Embedding and Conv2d weights ~ N(0, initializer_range) with zero biases, where the vision model's layers use
 * vision_config.initializer_range (1e-10 by default, as the reference checkpoints show) and the rest the top-level
 * one; LayerNorm ones/zeros; the vision class and position embeddings ~ truncated N(0, vision initializer_range).
 */
export function initBlipWeights(model: BlipForImageTextRetrieval): void {
  const visionStd = model.config.vision_config.initializer_range;
  const std = model.config.initializer_range;
  noGrad(() => {
    for (const [name, m] of model.namedModules()) {
      if (m instanceof Linear || m instanceof Embedding || m instanceof Conv2d) {
        normal(m.weight, 0, name.startsWith('vision_model.') ? visionStd : std);
        const bias = (m as { bias?: Tensor | null }).bias;
        if (bias) zeros_(bias);
      } else if (m instanceof LayerNorm) {
        if (m.weight) ones_(m.weight);
        if (m.bias) zeros_(m.bias);
      } else if (m instanceof BlipVisionEmbeddings) {
        truncNormal(m.class_embedding, 0, visionStd);
        truncNormal(m.position_embedding, 0, visionStd);
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// Family entry

/** Checkpoint tensors the model does not hold: the position-id buffers older checkpoints saved. */
function renameCheckpointName(name: string): string | null {
  return name.endsWith('.position_ids') ? null : name;
}

export const family: ModelFamily<BlipForImageTextRetrieval> = {
  name: 'blip',
  modelTypes: ['blip'],
  build(config: Config, opts: { where?: string } = {}): BlipForImageTextRetrieval {
    return new BlipForImageTextRetrieval(parseBlipConfig(config, opts.where ?? 'config.json'));
  },
  load(model: BlipForImageTextRetrieval, source: TensorSource): void {
    loadCheckpointInto(model, source, { rename: renameCheckpointName });
  },
  forwardNamed(model: BlipForImageTextRetrieval, inputs: Map<string, Tensor>): Map<string, Tensor> {
    const inputIds = inputs.get('input_ids');
    const pixelValues = inputs.get('pixel_values');
    if (!inputIds || !pixelValues)
      throw new Error(
        `BLIP: inputs must hold input_ids and pixel_values (attention_mask optional), got ${[...inputs.keys()].join(', ') || 'none'}`,
      );
    const wasTraining = model.training;
    model.eval();
    try {
      const out = model.forward(inputIds, pixelValues, inputs.get('attention_mask') ?? null);
      return new Map([
        ['cosine_sim', out.cosine_sim],
        ['itm_score', out.itm_score],
      ]);
    } finally {
      model.train(wasTraining);
    }
  },
};
