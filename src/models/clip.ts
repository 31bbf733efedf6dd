/**
 * CLIP (transformers' CLIPModel): a causal text transformer and a ViT image transformer, both pre-LN, with
 * linear projections into one embedding space, a learnable temperature `logit_scale` and the symmetric
 * contrastive loss. Parameter names as in the Hugging Face checkpoints (`openai/clip-vit-base-patch32`, ...).
 *
 * Supported: model_type `clip` with `text_config` / `vision_config` (any `hidden_act` incl. `quick_gelu`,
 * `layer_norm_eps`, sizes, `attention_dropout`, `projection_dim`, `logit_scale_init_value`); the text
 * model's causal mask combined with the padding `attention_mask`; pooling at the end-of-text token as the
 * current reference does: the argmax of input_ids when every row's largest id is 49407 (OpenAI's `<|endoftext|>`;
 * their old configs carry a wrong `eos_token_id` of 2), else the first position of `eos_token_id`
 * (padding may repeat it); vision position embeddings interpolated (bicubic, as the
 * reference's `interpolate_pos_encoding`) when the pixel size differs from `image_size`. The encoder
 * building blocks are exported for SigLIP, which shares them.
 * NOT supported: CLIPForImageClassification, stand-alone CLIPTextModelWithProjection /
 * CLIPVisionModelWithProjection checkpoints (other architectures are named on load), `position_ids`
 * other than 0..L-1. Note: transformers before the 4.5x series chose the argmax when `eos_token_id == 2`
 * instead; both rules pick the same token on OpenAI's checkpoints and tokenizers.
 */
import { arange, cat, F, noGrad, ones, tensor, tidy, type Device, type Tensor } from '../tensor/index.js';
import { Conv2d, Embedding, init, LayerNorm, Linear, MLP, Module, ModuleList } from '../nn/index.js';
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
  inEvalMode,
} from './common.js';
import type { ModelFamily } from './family.js';
import type { VisionTower } from './towers.js';
import { interpolateGrid } from './vit.js';

/** The fields of a CLIP/SigLIP tower that its encoder layers read (Hugging Face names). */
export interface EncoderConfig {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  hidden_act: HiddenAct;
  layer_norm_eps: number;
  attention_dropout: number;
}

export interface CLIPTextConfig extends EncoderConfig {
  vocab_size: number;
  max_position_embeddings: number;
  eos_token_id: number;
  pad_token_id: number;
  initializer_range: number;
  initializer_factor: number;
}

export interface CLIPVisionConfig extends EncoderConfig {
  image_size: number;
  patch_size: number;
  num_channels: number;
  initializer_range: number;
  initializer_factor: number;
}

export interface CLIPConfig {
  model_type: 'clip';
  text_config: CLIPTextConfig;
  vision_config: CLIPVisionConfig;
  projection_dim: number;
  logit_scale_init_value: number;
  initializer_factor: number;
}

/** Reads the encoder fields of one tower (defaults as transformers' configs). */
export function readEncoderConfig(
  r: ConfigReader,
  d: { hidden: number; inter: number; layers: number; heads: number; act: HiddenAct; eps: number },
): EncoderConfig {
  const hidden_size = r.int('hidden_size', d.hidden);
  const num_attention_heads = r.int('num_attention_heads', d.heads);
  if (hidden_size % num_attention_heads !== 0)
    throw new Error(
      `${r.where}: field "hidden_size" (${hidden_size}) must be a multiple of "num_attention_heads" (${num_attention_heads})`,
    );
  return {
    hidden_size,
    intermediate_size: r.int('intermediate_size', d.inter),
    num_hidden_layers: r.int('num_hidden_layers', d.layers),
    num_attention_heads,
    hidden_act: r.oneOf('hidden_act', HIDDEN_ACTS, d.act),
    layer_norm_eps: r.num('layer_norm_eps', d.eps),
    attention_dropout: r.num('attention_dropout', 0),
  };
}

/** A square image/patch size (CLIP and SigLIP configs hold one integer). */
export function readSquare(r: ConfigReader, key: string, dflt: number): number {
  const v = r.int(key, dflt);
  if (v <= 0) throw new Error(`${r.where}: field "${key}" must be positive, got ${v}`);
  return v;
}

const CLIP_ARCHITECTURES = ['CLIPModel'];

/** Reads and checks a CLIP config.json (errors name the field and what is supported). */
export function readCLIPConfig(config: Config, where = 'config.json'): CLIPConfig {
  const r = new ConfigReader(config, where);
  r.oneOf('model_type', ['clip'] as const, 'clip');
  const archs = (config['architectures'] as unknown[] | undefined) ?? [];
  for (const a of archs)
    if (typeof a !== 'string' || !CLIP_ARCHITECTURES.includes(a))
      throw new Error(
        `${where}: "architectures": ${JSON.stringify(a)} is not supported (supported: ${CLIP_ARCHITECTURES.join(', ')})`,
      );
  const factor = r.num('initializer_factor', 1);
  const t = r.section('text_config');
  const v = r.section('vision_config');
  const text: CLIPTextConfig = {
    ...readEncoderConfig(t, { hidden: 512, inter: 2048, layers: 12, heads: 8, act: 'quick_gelu', eps: 1e-5 }),
    vocab_size: t.int('vocab_size', 49408),
    max_position_embeddings: t.int('max_position_embeddings', 77),
    eos_token_id: t.int('eos_token_id', 49407),
    pad_token_id: t.int('pad_token_id', 1),
    initializer_range: t.num('initializer_range', 0.02),
    initializer_factor: t.num('initializer_factor', factor),
  };
  const vision: CLIPVisionConfig = {
    ...readEncoderConfig(v, { hidden: 768, inter: 3072, layers: 12, heads: 12, act: 'quick_gelu', eps: 1e-5 }),
    image_size: readSquare(v, 'image_size', 224),
    patch_size: readSquare(v, 'patch_size', 32),
    num_channels: v.int('num_channels', 3),
    initializer_range: v.num('initializer_range', 0.02),
    initializer_factor: v.num('initializer_factor', factor),
  };
  if (vision.image_size % vision.patch_size !== 0)
    throw new Error(
      `${where} › vision_config: "image_size" (${vision.image_size}) must be a multiple of "patch_size" (${vision.patch_size})`,
    );
  return {
    model_type: 'clip',
    text_config: text,
    vision_config: vision,
    projection_dim: r.int('projection_dim', 512),
    logit_scale_init_value: r.num('logit_scale_init_value', 2.6592),
    initializer_factor: factor,
  };
}

// ---- encoder blocks shared with SigLIP ----

export class CLIPAttention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly out_proj: Linear;
  constructor(readonly config: EncoderConfig) {
    super();
    const h = config.hidden_size;
    this.k_proj = this.child('k_proj', new Linear(h, h));
    this.v_proj = this.child('v_proj', new Linear(h, h));
    this.q_proj = this.child('q_proj', new Linear(h, h));
    this.out_proj = this.child('out_proj', new Linear(h, h));
  }
  /** mask: additive float [B, 1, Lq, Lk] (0 = attend) or null. */
  forward(x: Tensor, mask: Tensor | null): Tensor {
    const heads = this.config.num_attention_heads;
    const q = splitHeads(this.q_proj.forward(x), heads);
    const k = splitHeads(this.k_proj.forward(x), heads);
    const v = splitHeads(this.v_proj.forward(x), heads);
    const o = F.attention(q, k, v, { mask, dropout: this.config.attention_dropout, training: this.training });
    return this.out_proj.forward(mergeHeads(o));
  }
}

export class CLIPEncoderLayer extends Module {
  readonly self_attn: CLIPAttention;
  readonly layer_norm1: LayerNorm;
  readonly mlp: MLP;
  readonly layer_norm2: LayerNorm;
  constructor(readonly config: EncoderConfig) {
    super();
    const h = config.hidden_size;
    this.self_attn = this.child('self_attn', new CLIPAttention(config));
    this.layer_norm1 = this.child('layer_norm1', new LayerNorm(h, config.layer_norm_eps));
    this.mlp = this.child('mlp', new MLP(h, config.intermediate_size, h, engineActivation(config.hidden_act)));
    this.layer_norm2 = this.child('layer_norm2', new LayerNorm(h, config.layer_norm_eps));
  }
  forward(x: Tensor, mask: Tensor | null): Tensor {
    const h = this.self_attn.forward(this.layer_norm1.forward(x), mask).add(x);
    return this.mlp.forward(this.layer_norm2.forward(h)).add(h);
  }
}

export class CLIPEncoder extends Module {
  readonly layers: ModuleList<CLIPEncoderLayer>;
  constructor(config: EncoderConfig) {
    super();
    this.layers = this.child(
      'layers',
      new ModuleList(Array.from({ length: config.num_hidden_layers }, () => new CLIPEncoderLayer(config))),
    );
  }
  forward(x: Tensor, mask: Tensor | null = null): Tensor {
    for (const l of this.layers) {
      const input = x;
      x = tidy(() => l.forward(input, mask)); // per-layer scope: temporaries go when the layer returns
    }
    return x;
  }
}

/** The id of `<|endoftext|>` in OpenAI's CLIP vocabulary (the largest id there). */
export const OPENAI_EOT = 49407;

const F32_MIN = -3.4028234663852886e38;

/** An additive mask [B, 1, L, L]: 0 where attended (causal and not padding), float32's minimum elsewhere. */
export function causalPaddingMask(attentionMask: Tensor | null, batch: number, length: number, device: Device): Tensor {
  let allowed = ones([length, length], { dtype: 'bool', device }).tril().view(1, 1, length, length);
  if (attentionMask) allowed = allowed.logicalAnd(attentionMask.ne(0).view(batch, 1, 1, length));
  else allowed = allowed.expand(batch, 1, length, length);
  return allowed.logicalNot().to('float32').mul(F32_MIN);
}

/** An additive padding mask [B, 1, 1, L] from a 0/1 attention_mask (as transformers' 4-D expansion). */
export function paddingMask(attentionMask: Tensor): Tensor {
  const [b, l] = attentionMask.shape as [number, number];
  return attentionMask.eq(0).view(b, 1, 1, l).to('float32').mul(F32_MIN);
}

/** x / ||x||₂ over the last dim, without an epsilon (as the reference, so gradients match). */
export function l2normalize(x: Tensor): Tensor {
  return x.div(x.pow(2).sum(-1, true).sqrt());
}

// ---- text tower ----

export class CLIPTextEmbeddings extends Module {
  readonly token_embedding: Embedding;
  readonly position_embedding: Embedding;
  constructor(readonly config: { vocab_size: number; hidden_size: number; max_position_embeddings: number }) {
    super();
    this.token_embedding = this.child('token_embedding', new Embedding(config.vocab_size, config.hidden_size));
    this.position_embedding = this.child(
      'position_embedding',
      new Embedding(config.max_position_embeddings, config.hidden_size),
    );
  }
  forward(inputIds: Tensor): Tensor {
    const l = inputIds.size(-1);
    const max = this.config.max_position_embeddings;
    if (l > max) throw new Error(`text: input_ids have ${l} tokens but max_position_embeddings is ${max}`);
    const pos = arange(0, l, 1, { dtype: 'int64', device: inputIds.device });
    return this.token_embedding.forward(inputIds).add(this.position_embedding.forward(pos));
  }
}

export interface TowerOutput {
  last_hidden_state: Tensor;
  pooler_output: Tensor;
}

export class CLIPTextTransformer extends Module {
  readonly embeddings: CLIPTextEmbeddings;
  readonly encoder: CLIPEncoder;
  readonly final_layer_norm: LayerNorm;
  constructor(readonly config: CLIPTextConfig) {
    super();
    this.embeddings = this.child('embeddings', new CLIPTextEmbeddings(config));
    this.encoder = this.child('encoder', new CLIPEncoder(config));
    this.final_layer_norm = this.child('final_layer_norm', new LayerNorm(config.hidden_size, config.layer_norm_eps));
  }
  /** input_ids [B, L] (int64), attention_mask [B, L] (0/1) or null. */
  forward(inputIds: Tensor, attentionMask: Tensor | null = null): TowerOutput {
    const [b, l] = inputIds.shape as [number, number];
    const mask = causalPaddingMask(attentionMask, b, l, inputIds.device);
    const last = this.final_layer_norm.forward(this.encoder.forward(this.embeddings.forward(inputIds), mask));
    const ids = inputIds.to('int64');
    const eosAt = ids.maxDim(-1).values.eq(OPENAI_EOT).all().item()
      ? ids.argmax(-1)
      : ids.eq(this.config.eos_token_id).to('int32').argmax(-1);
    const rows = arange(0, b, 1, { dtype: 'int64', device: inputIds.device });
    return { last_hidden_state: last, pooler_output: last.index([rows, eosAt]) };
  }
}

// ---- vision tower ----

export class CLIPVisionEmbeddings extends Module {
  readonly class_embedding: Tensor;
  readonly patch_embedding: Conv2d;
  readonly position_embedding: Embedding;
  readonly grid: number;
  constructor(readonly config: CLIPVisionConfig) {
    super();
    const h = config.hidden_size;
    this.class_embedding = this.param('class_embedding', tensor(new Float32Array(h)).normal_());
    this.patch_embedding = this.child(
      'patch_embedding',
      new Conv2d(config.num_channels, h, config.patch_size, { stride: config.patch_size, bias: false }),
    );
    this.grid = config.image_size / config.patch_size;
    this.position_embedding = this.child('position_embedding', new Embedding(this.grid * this.grid + 1, h));
  }
  /** Position embeddings for a pixel size, interpolated as the reference's interpolate_pos_encoding. */
  positions(height: number, width: number, numPatches: number): Tensor {
    const w = this.position_embedding.weight.unsqueeze(0);
    const g = this.grid;
    if (numPatches === g * g && height === width) return w;
    const p = this.config.patch_size;
    return cat(
      [
        w.narrow(1, 0, 1),
        interpolateGrid(w.narrow(1, 1, g * g), [g, g], [Math.floor(height / p), Math.floor(width / p)]),
      ],
      1,
    );
  }
  forward(pixelValues: Tensor, interpolatePosEncoding = false): Tensor {
    const [b, c, height, width] = pixelValues.shape as [number, number, number, number];
    const size = this.config.image_size;
    if (c !== this.config.num_channels)
      throw new Error(`vision: pixel_values have ${c} channels but num_channels is ${this.config.num_channels}`);
    if (!interpolatePosEncoding && (height !== size || width !== size))
      throw new Error(
        `vision: pixel_values are ${height}x${width} but the model's image_size is ${size}x${size} (interpolate the position embeddings to use other sizes)`,
      );
    const patches = this.patch_embedding.forward(pixelValues).flatten(2).transpose(1, 2);
    const h = this.config.hidden_size;
    const tokens = cat([this.class_embedding.view(1, 1, h).expand(b, 1, h), patches], 1);
    return tokens.add(this.positions(height, width, patches.size(1)));
  }
}

export class CLIPVisionTransformer extends Module {
  readonly embeddings: CLIPVisionEmbeddings;
  readonly pre_layrnorm: LayerNorm;
  readonly encoder: CLIPEncoder;
  readonly post_layernorm: LayerNorm;
  constructor(readonly config: CLIPVisionConfig) {
    super();
    const h = config.hidden_size;
    this.embeddings = this.child('embeddings', new CLIPVisionEmbeddings(config));
    this.pre_layrnorm = this.child('pre_layrnorm', new LayerNorm(h, config.layer_norm_eps));
    this.encoder = this.child('encoder', new CLIPEncoder(config));
    this.post_layernorm = this.child('post_layernorm', new LayerNorm(h, config.layer_norm_eps));
  }
  /** last_hidden_state is the encoder output; pooler_output is post_layernorm of the class token. */
  forward(pixelValues: Tensor, interpolatePosEncoding?: boolean): TowerOutput {
    const [, , height, width] = pixelValues.shape as [number, number, number, number];
    const size = this.config.image_size;
    const interpolate = interpolatePosEncoding ?? (height !== size || width !== size);
    const x = this.pre_layrnorm.forward(this.embeddings.forward(pixelValues, interpolate));
    const last = this.encoder.forward(x);
    return { last_hidden_state: last, pooler_output: this.post_layernorm.forward(last.select(1, 0)) };
  }
}

// ---- the dual encoder ----

export interface CLIPOutput {
  loss?: Tensor;
  logits_per_image: Tensor;
  logits_per_text: Tensor;
  /** Normalised projections. */
  text_embeds: Tensor;
  image_embeds: Tensor;
  /** Projections before normalisation (transformers 5 reports these as the towers' pooler_output). */
  text_features: Tensor;
  image_features: Tensor;
  text_model_output: TowerOutput;
  vision_model_output: TowerOutput;
}

/** CLIP's loss: mean of the cross-entropies of logits_per_text and its transpose against the diagonal. */
export function clipLoss(logitsPerText: Tensor): Tensor {
  const n = logitsPerText.size(0);
  if (logitsPerText.size(1) !== n)
    throw new Error(`CLIP loss needs as many texts as images, got ${n} texts and ${logitsPerText.size(1)} images`);
  const target = arange(0, n, 1, { dtype: 'int64', device: logitsPerText.device });
  return F.crossEntropy(logitsPerText, target)
    .add(F.crossEntropy(logitsPerText.transpose(0, 1), target))
    .div(2);
}

export class CLIPModel extends Module {
  readonly text_model: CLIPTextTransformer;
  readonly vision_model: CLIPVisionTransformer;
  readonly visual_projection: Linear;
  readonly text_projection: Linear;
  readonly logit_scale: Tensor;
  constructor(readonly config: CLIPConfig) {
    super();
    this.text_model = this.child('text_model', new CLIPTextTransformer(config.text_config));
    this.vision_model = this.child('vision_model', new CLIPVisionTransformer(config.vision_config));
    this.visual_projection = this.child(
      'visual_projection',
      new Linear(config.vision_config.hidden_size, config.projection_dim, { bias: false }),
    );
    this.text_projection = this.child(
      'text_projection',
      new Linear(config.text_config.hidden_size, config.projection_dim, { bias: false }),
    );
    this.logit_scale = this.param('logit_scale', tensor(config.logit_scale_init_value));
    initCLIPWeights(this);
  }
  getTextFeatures(inputIds: Tensor, attentionMask: Tensor | null = null): Tensor {
    return this.text_projection.forward(this.text_model.forward(inputIds, attentionMask).pooler_output);
  }
  getImageFeatures(pixelValues: Tensor, interpolatePosEncoding?: boolean): Tensor {
    return this.visual_projection.forward(this.vision_model.forward(pixelValues, interpolatePosEncoding).pooler_output);
  }
  forward(inputs: {
    input_ids: Tensor;
    pixel_values: Tensor;
    attention_mask?: Tensor | null;
    return_loss?: boolean;
    interpolate_pos_encoding?: boolean;
  }): CLIPOutput {
    const vision = this.vision_model.forward(inputs.pixel_values, inputs.interpolate_pos_encoding);
    const text = this.text_model.forward(inputs.input_ids, inputs.attention_mask ?? null);
    const imageFeatures = this.visual_projection.forward(vision.pooler_output);
    const textFeatures = this.text_projection.forward(text.pooler_output);
    const imageEmbeds = l2normalize(imageFeatures);
    const textEmbeds = l2normalize(textFeatures);
    const logitsPerText = textEmbeds.matmul(imageEmbeds.transpose(0, 1)).mul(this.logit_scale.exp());
    const out: CLIPOutput = {
      logits_per_image: logitsPerText.transpose(0, 1),
      logits_per_text: logitsPerText,
      text_embeds: textEmbeds,
      image_embeds: imageEmbeds,
      text_features: textFeatures,
      image_features: imageFeatures,
      text_model_output: text,
      vision_model_output: vision,
    };
    if (inputs.return_loss) out.loss = clipLoss(logitsPerText);
    return out;
  }
}

/** transformers' CLIP init (normal with the std each module gets there; zero biases; LayerNorm 1/0). */
export function initCLIPWeights(model: CLIPModel): void {
  noGrad(() => {
    for (const [, m] of model.namedModules()) {
      if (m instanceof LayerNorm) {
        if (m.weight) init.ones_(m.weight);
        if (m.bias) init.zeros_(m.bias);
      } else if (m instanceof Linear && m.bias) init.zeros_(m.bias);
    }
    for (const tower of [model.text_model, model.vision_model]) {
      const c = tower.config;
      const f = c.initializer_factor;
      const inStd = c.hidden_size ** -0.5 * (2 * c.num_hidden_layers) ** -0.5 * f;
      for (const layer of tower.encoder.layers) {
        const a = layer.self_attn;
        for (const l of [a.q_proj, a.k_proj, a.v_proj]) init.normal(l.weight, 0, inStd);
        init.normal(a.out_proj.weight, 0, c.hidden_size ** -0.5 * f);
        init.normal(layer.mlp.fc1.weight, 0, (2 * c.hidden_size) ** -0.5 * f);
        init.normal(layer.mlp.fc2.weight, 0, inStd);
      }
    }
    const t = model.text_model.embeddings;
    const tf = model.config.text_config.initializer_factor;
    init.normal(t.token_embedding.weight, 0, 0.02 * tf);
    init.normal(t.position_embedding.weight, 0, 0.02 * tf);
    const v = model.vision_model.embeddings;
    const vc = model.config.vision_config;
    init.normal(v.class_embedding, 0, vc.hidden_size ** -0.5 * vc.initializer_factor);
    init.normal(v.patch_embedding.weight, 0, vc.initializer_range * vc.initializer_factor);
    init.normal(v.position_embedding.weight, 0, vc.initializer_range * vc.initializer_factor);
    const f = model.config.initializer_factor;
    init.normal(model.text_projection.weight, 0, model.config.text_config.hidden_size ** -0.5 * f);
    init.normal(model.visual_projection.weight, 0, vc.hidden_size ** -0.5 * f);
    model.logit_scale.fill_(model.config.logit_scale_init_value);
  });
}

/** Checks the named inputs of a dual encoder: input_ids and pixel_values present. */
export function requireInputs(inputs: Map<string, Tensor>, names: string[], who: string): Tensor[] {
  return names.map((n) => {
    const t = inputs.get(n);
    if (!t) throw new Error(`${who}: the inputs have no "${n}" (got: ${[...inputs.keys()].join(', ') || 'none'})`);
    return t;
  });
}

/** What CLIP and SigLIP outputs share (the names the reference gives both). */
interface DualEncoderOutput {
  text_embeds: Tensor;
  image_embeds: Tensor;
  logits_per_image: Tensor;
  logits_per_text: Tensor;
  text_model_output: { last_hidden_state: Tensor };
  vision_model_output: { last_hidden_state: Tensor };
  loss?: Tensor | null;
}

/** Loads a dual-encoder checkpoint; position_ids (non-persistent in transformers, kept by older checkpoints) are skipped. */
export function loadDualEncoder(model: Module, source: TensorSource): void {
  noGrad(() =>
    loadCheckpointInto(model, source, { rename: (n) => (n.endsWith('embeddings.position_ids') ? null : n) }),
  );
}

/**
 * Runs a dual encoder (eval mode, no gradients) on named inputs; returns its output and the outputs both
 * families name alike (with `loss` when the batches pair up).
 */
export function dualEncoderForwardNamed<O extends DualEncoderOutput>(
  model: Module & {
    forward(i: { input_ids: Tensor; pixel_values: Tensor; attention_mask: Tensor | null; return_loss: boolean }): O;
  },
  inputs: Map<string, Tensor>,
  who: string,
): { out: O; named: Map<string, Tensor> } {
  const [ids, pixels] = requireInputs(inputs, ['input_ids', 'pixel_values'], who) as [Tensor, Tensor];
  const out = inEvalMode(model, () =>
    model.forward({
      input_ids: ids.to('int64'),
      pixel_values: pixels.to('float32'),
      attention_mask: inputs.get('attention_mask') ?? null,
      return_loss: ids.size(0) === pixels.size(0),
    }),
  );
  const named = new Map<string, Tensor>([
    ['text_embeds', out.text_embeds],
    ['image_embeds', out.image_embeds],
    ['logits_per_image', out.logits_per_image],
    ['logits_per_text', out.logits_per_text],
    ['text_last_hidden_state', out.text_model_output.last_hidden_state],
    ['vision_last_hidden_state', out.vision_model_output.last_hidden_state],
  ]);
  if (out.loss) named.set('loss', out.loss.reshape(1));
  return { out, named };
}

export const family: ModelFamily<CLIPModel> = {
  name: 'clip',
  modelTypes: ['clip'],
  build(config, opts = {}) {
    return new CLIPModel(readCLIPConfig(config, opts.where));
  },
  load: loadDualEncoder,
  forwardNamed(model, inputs) {
    const { out, named } = dualEncoderForwardNamed(model, inputs, 'CLIP');
    // transformers 5 reports the projected (not normalised) features as the towers' pooler_output.
    named.set('text_pooler_output', out.text_features);
    named.set('vision_pooler_output', out.image_features);
    return named;
  },
};

/**
 * A vision transformer taken out of a whole dual-encoder model built from its config (so the tower gets the
 * family's own initialisation); the rest of the model is freed.
 */
export function keepVisionTower<T extends Module>(whole: Module & { vision_model: T }): T {
  const tower = whole.vision_model;
  const keep = new Set(tower.parameters());
  for (const t of whole.parameters()) if (!keep.has(t)) t.dispose();
  return tower;
}

/** Loads a dual-encoder checkpoint's `vision_model.*` tensors into its vision tower (strict), the rest skipped. */
export function loadVisionTower(model: Module, source: TensorSource): void {
  noGrad(() =>
    loadCheckpointInto(model, source, {
      rename: (n) =>
        n.startsWith('vision_model.') && !n.endsWith('position_ids') ? n.slice('vision_model.'.length) : null,
    }),
  );
}

/** CLIP's vision transformer as a recipe's vision tower: pooled = post-LayerNorm [CLS] state. */
export const visionTower: VisionTower<CLIPVisionTransformer> = {
  modelTypes: ['clip'],
  build: (config, where) => keepVisionTower(new CLIPModel(readCLIPConfig(config, where))),
  load: loadVisionTower,
  hiddenSize: (model) => model.config.hidden_size,
  pooledWidth: (model) => model.config.hidden_size,
  patchSize: (model) => [model.config.patch_size, model.config.patch_size],
  prefixTokens: () => 1,
  forward: (model, pixelValues) => model.forward(pixelValues),
};
