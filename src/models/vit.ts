/**
 * ViT and DeiT image encoders, computing what transformers' ViTModel / DeiTModel compute, from the same
 * checkpoints (parameter names as saved by `save_pretrained`).
 *
 * Supported: model_type `vit` and `deit` (DeiT = ViT with a second, distillation token after the class token:
 * position embeddings then cover two extra tokens); pre-LN encoder with any `hidden_act`, `qkv_bias`,
 * `layer_norm_eps`, square or rectangular `image_size`/`patch_size`, the pooler (dense + `pooler_act` on the
 * first token, `pooler_output_size`); position embeddings interpolated for other image sizes as the
 * reference's `interpolate_pos_encoding` (bicubic, align_corners false), automatically when the pixel size
 * differs from `image_size`. Checkpoints of `ViTForImageClassification`, `DeiTForImageClassification(WithTeacher)`
 * and `ViTForMaskedImageModeling` load as the bare encoder: the `vit.`/`deit.` prefix is removed and the
 * heads (`classifier`, `cls_classifier`, `distillation_classifier`, `decoder`) and `mask_token` are skipped;
 * those architectures have no pooler.
 * NOT supported: the heads themselves, `bool_masked_pos` (masked image modeling), BEiT (relative position
 * bias, layer scale and mean pooling differ), ViT-MAE / ViT-hybrid / DINOv2 (other model_types).
 */
import { cat, F, noGrad, tidy, zeros, type Tensor } from '../tensor/index.js';
import { Conv2d, init, LayerNorm, Linear, Module, ModuleList } from '../nn/index.js';
import type { TensorSource } from '../io/safetensors.js';
import {
  applyActivation,
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

export const VIT_MODEL_TYPES = ['vit', 'deit'] as const;
export type ViTModelType = (typeof VIT_MODEL_TYPES)[number];

/** The config.json fields that change what a ViT/DeiT computes (Hugging Face names). */
export interface ViTConfig {
  model_type: ViTModelType;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: HiddenAct;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  initializer_range: number;
  layer_norm_eps: number;
  /** [height, width] (config.json may hold one number). */
  image_size: [number, number];
  patch_size: [number, number];
  num_channels: number;
  qkv_bias: boolean;
  pooler_output_size: number;
  pooler_act: HiddenAct;
  /** Whether the model has the pooler (ViTModel/DeiTModel do, the task heads' encoders do not). */
  add_pooling_layer: boolean;
}

const BARE_ARCHITECTURES = ['ViTModel', 'DeiTModel'];
const HEAD_ARCHITECTURES = [
  'ViTForImageClassification',
  'DeiTForImageClassification',
  'DeiTForImageClassificationWithTeacher',
  'ViTForMaskedImageModeling',
  'DeiTForMaskedImageModeling',
];

function pair(r: ConfigReader, key: string, dflt: number): [number, number] {
  const v = r.config[key];
  if (Array.isArray(v)) {
    if (v.length !== 2 || !v.every((x) => typeof x === 'number' && Number.isInteger(x) && x > 0))
      throw new Error(
        `${r.where}: field "${key}" must be a positive integer or [height, width], got ${JSON.stringify(v)}`,
      );
    return [v[0] as number, v[1] as number];
  }
  const n = r.int(key, dflt);
  if (n <= 0) throw new Error(`${r.where}: field "${key}" must be positive, got ${n}`);
  return [n, n];
}

/** Reads and checks a ViT/DeiT config.json (errors name the field and what is supported). */
export function readViTConfig(config: Config, where = 'config.json'): ViTConfig {
  const r = new ConfigReader(config, where);
  const model_type = r.oneOf('model_type', VIT_MODEL_TYPES, 'vit');
  const hidden_size = r.int('hidden_size', 768);
  const num_attention_heads = r.int('num_attention_heads', 12);
  if (hidden_size % num_attention_heads !== 0)
    throw new Error(
      `${where}: field "hidden_size" (${hidden_size}) must be a multiple of "num_attention_heads" (${num_attention_heads})`,
    );
  const archs = (config['architectures'] as unknown[] | undefined) ?? [];
  for (const a of archs)
    if (typeof a !== 'string' || ![...BARE_ARCHITECTURES, ...HEAD_ARCHITECTURES].includes(a))
      throw new Error(
        `${where}: "architectures": ${JSON.stringify(a)} is not supported (supported: ${[...BARE_ARCHITECTURES, ...HEAD_ARCHITECTURES].join(', ')})`,
      );
  const image_size = pair(r, 'image_size', 224);
  const patch_size = pair(r, 'patch_size', 16);
  if (image_size[0] % patch_size[0] || image_size[1] % patch_size[1])
    throw new Error(`${where}: "image_size" [${image_size}] must be a multiple of "patch_size" [${patch_size}]`);
  if (r.bool('use_mask_token', false))
    throw new Error(`${where}: "use_mask_token": true is not supported (masked image modeling)`);
  return {
    model_type,
    hidden_size,
    num_hidden_layers: r.int('num_hidden_layers', 12),
    num_attention_heads,
    intermediate_size: r.int('intermediate_size', 3072),
    hidden_act: r.oneOf('hidden_act', HIDDEN_ACTS, 'gelu'),
    hidden_dropout_prob: r.num('hidden_dropout_prob', 0),
    attention_probs_dropout_prob: r.num('attention_probs_dropout_prob', 0),
    initializer_range: r.num('initializer_range', 0.02),
    layer_norm_eps: r.num('layer_norm_eps', 1e-12),
    image_size,
    patch_size,
    num_channels: r.int('num_channels', 3),
    qkv_bias: r.bool('qkv_bias', true),
    pooler_output_size: r.int('pooler_output_size', hidden_size),
    pooler_act: r.oneOf('pooler_act', HIDDEN_ACTS, 'tanh'),
    add_pooling_layer: archs.length === 0 || archs.some((a) => BARE_ARCHITECTURES.includes(a as string)),
  };
}

/** Interpolates a [1, gh*gw, D] grid of position embeddings to [1, nh*nw, D] (bicubic, align_corners false). */
export function interpolateGrid(grid: Tensor, from: [number, number], to: [number, number]): Tensor {
  const d = grid.size(-1);
  const img = grid.reshape(1, from[0], from[1], d).permute(0, 3, 1, 2);
  const out = F.interpolate(img, { size: to, mode: 'bicubic', alignCorners: false });
  return out.permute(0, 2, 3, 1).reshape(1, to[0] * to[1], d);
}

export class ViTEmbeddings extends Module {
  readonly clsToken: Tensor;
  readonly distillationToken: Tensor | null;
  readonly positionEmbeddings: Tensor;
  readonly patch_embeddings: ViTPatchEmbeddings;
  /** Tokens before the patches: [CLS] (and DeiT's distillation token). */
  readonly numPrefix: number;
  constructor(readonly config: ViTConfig) {
    super();
    const h = config.hidden_size;
    this.clsToken = this.param('cls_token', init.truncNormal(zeros([1, 1, h]), 0, config.initializer_range));
    this.distillationToken =
      config.model_type === 'deit'
        ? this.param('distillation_token', init.truncNormal(zeros([1, 1, h]), 0, config.initializer_range))
        : null;
    this.numPrefix = this.distillationToken ? 2 : 1;
    this.patch_embeddings = this.child('patch_embeddings', new ViTPatchEmbeddings(config));
    const n = this.patch_embeddings.grid[0] * this.patch_embeddings.grid[1] + this.numPrefix;
    this.positionEmbeddings = this.param(
      'position_embeddings',
      init.truncNormal(zeros([1, n, h]), 0, config.initializer_range),
    );
  }

  /** Position embeddings for a pixel size: the checkpoint's own, or interpolated as the reference does. */
  positions(height: number, width: number, numPatches: number): Tensor {
    const [gh, gw] = this.patch_embeddings.grid;
    if (numPatches === gh * gw && height === width) return this.positionEmbeddings;
    const p = this.numPrefix;
    const prefix = this.positionEmbeddings.narrow(1, 0, p);
    const grid = this.positionEmbeddings.narrow(1, p, gh * gw);
    const [ph, pw] = this.config.patch_size;
    const to: [number, number] = [Math.floor(height / ph), Math.floor(width / pw)];
    return cat([prefix, interpolateGrid(grid, [gh, gw], to)], 1);
  }

  forward(pixelValues: Tensor, interpolatePosEncoding = false): Tensor {
    const [b, , height, width] = pixelValues.shape as [number, number, number, number];
    const [ih, iw] = this.config.image_size;
    if (!interpolatePosEncoding && (height !== ih || width !== iw))
      throw new Error(
        `ViT: pixel_values are ${height}x${width} but the model's image_size is ${ih}x${iw} (interpolate the position embeddings to use other sizes)`,
      );
    const patches = this.patch_embeddings.forward(pixelValues);
    const h = this.config.hidden_size;
    const prefix = [this.clsToken.expand(b, 1, h)];
    if (this.distillationToken) prefix.push(this.distillationToken.expand(b, 1, h));
    const tokens = cat([...prefix, patches], 1);
    const pos = interpolatePosEncoding ? this.positions(height, width, patches.size(1)) : this.positionEmbeddings;
    return F.dropout(tokens.add(pos), this.config.hidden_dropout_prob, this.training);
  }
}

export class ViTPatchEmbeddings extends Module {
  readonly projection: Conv2d;
  readonly grid: [number, number];
  constructor(readonly config: ViTConfig) {
    super();
    const [ph, pw] = config.patch_size;
    this.grid = [config.image_size[0] / ph, config.image_size[1] / pw];
    this.projection = this.child(
      'projection',
      new Conv2d(config.num_channels, config.hidden_size, [ph, pw], { stride: [ph, pw] }),
    );
  }
  /** [B, C, H, W] -> [B, patches, hidden] */
  forward(pixelValues: Tensor): Tensor {
    const c = pixelValues.size(1);
    if (c !== this.config.num_channels)
      throw new Error(
        `ViT: pixel_values have ${c} channels but the config's num_channels is ${this.config.num_channels}`,
      );
    return this.projection.forward(pixelValues).flatten(2).transpose(1, 2);
  }
}

class ViTSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  constructor(readonly config: ViTConfig) {
    super();
    const h = config.hidden_size;
    this.query = this.child('query', new Linear(h, h, { bias: config.qkv_bias }));
    this.key = this.child('key', new Linear(h, h, { bias: config.qkv_bias }));
    this.value = this.child('value', new Linear(h, h, { bias: config.qkv_bias }));
  }
  /** mask: additive [B, 1, 1, L] (0 attend, large negative masked), or null: every token attends to all. */
  forward(x: Tensor, mask: Tensor | null): Tensor {
    const heads = this.config.num_attention_heads;
    const q = splitHeads(this.query.forward(x), heads);
    const k = splitHeads(this.key.forward(x), heads);
    const v = splitHeads(this.value.forward(x), heads);
    const o = F.attention(q, k, v, {
      mask,
      dropout: this.config.attention_probs_dropout_prob,
      training: this.training,
    });
    return mergeHeads(o);
  }
}

/** The attention's output projection; the residual is added by the layer (pre-LayerNorm block). */
class ViTSelfOutput extends Module {
  readonly dense: Linear;
  constructor(readonly config: ViTConfig) {
    super();
    this.dense = this.child('dense', new Linear(config.hidden_size, config.hidden_size));
  }
  forward(x: Tensor): Tensor {
    return F.dropout(this.dense.forward(x), this.config.hidden_dropout_prob, this.training);
  }
}

class ViTAttention extends Module {
  readonly attention: ViTSelfAttention;
  readonly output: ViTSelfOutput;
  constructor(config: ViTConfig) {
    super();
    this.attention = this.child('attention', new ViTSelfAttention(config));
    this.output = this.child('output', new ViTSelfOutput(config));
  }
  forward(x: Tensor, mask: Tensor | null): Tensor {
    return this.output.forward(this.attention.forward(x, mask));
  }
}

/** Holds intermediate.dense or output.dense; the layer fuses the two (one native MLP call). */
class ViTDense extends Module {
  readonly dense: Linear;
  constructor(inF: number, outF: number) {
    super();
    this.dense = this.child('dense', new Linear(inF, outF));
  }
}

/** Pre-LayerNorm block: h = x + attention(LN(x)), then h + mlp(LN(h)). */
export class ViTLayer extends Module {
  readonly attention: ViTAttention;
  readonly intermediate: ViTDense;
  readonly output: ViTDense;
  readonly layernorm_before: LayerNorm;
  readonly layernorm_after: LayerNorm;
  constructor(readonly config: ViTConfig) {
    super();
    const h = config.hidden_size;
    this.attention = this.child('attention', new ViTAttention(config));
    this.intermediate = this.child('intermediate', new ViTDense(h, config.intermediate_size));
    this.output = this.child('output', new ViTDense(config.intermediate_size, h));
    this.layernorm_before = this.child('layernorm_before', new LayerNorm(h, config.layer_norm_eps));
    this.layernorm_after = this.child('layernorm_after', new LayerNorm(h, config.layer_norm_eps));
  }
  forward(x: Tensor, mask: Tensor | null): Tensor {
    const h = this.attention.forward(this.layernorm_before.forward(x), mask).add(x);
    const i = this.intermediate.dense;
    const o = this.output.dense;
    const m = F.mlp(
      this.layernorm_after.forward(h),
      i.weight,
      i.bias,
      o.weight,
      o.bias,
      engineActivation(this.config.hidden_act),
    );
    return F.dropout(m, this.config.hidden_dropout_prob, this.training).add(h);
  }
}

class ViTEncoder extends Module {
  readonly layer: ModuleList<ViTLayer>;
  constructor(config: ViTConfig) {
    super();
    this.layer = this.child(
      'layer',
      new ModuleList(Array.from({ length: config.num_hidden_layers }, () => new ViTLayer(config))),
    );
  }
  /** Runs the layers; with `hiddenStates`, pushes the input and each layer's output to it. */
  forward(x: Tensor, mask: Tensor | null, hiddenStates?: Tensor[]): Tensor {
    for (const l of this.layer) {
      hiddenStates?.push(x);
      const input = x;
      x = tidy(() => l.forward(input, mask)); // per-layer scope: temporaries go when the layer returns
    }
    hiddenStates?.push(x);
    return x;
  }
}

class ViTPooler extends Module {
  readonly dense: Linear;
  constructor(readonly config: ViTConfig) {
    super();
    this.dense = this.child('dense', new Linear(config.hidden_size, config.pooler_output_size));
  }
  forward(sequence: Tensor): Tensor {
    return applyActivation(this.dense.forward(sequence.select(1, 0)), this.config.pooler_act);
  }
}

export interface ViTOutput {
  last_hidden_state: Tensor;
  pooler_output: Tensor | null;
  /** Embeddings output then each layer's output (before the final layernorm), when asked. */
  hidden_states?: Tensor[];
}

/** transformers' ViTModel / DeiTModel. */
export class ViTModel extends Module {
  readonly embeddings: ViTEmbeddings;
  readonly encoder: ViTEncoder;
  readonly layernorm: LayerNorm;
  readonly pooler: ViTPooler | null;
  constructor(readonly config: ViTConfig) {
    super();
    this.embeddings = this.child('embeddings', new ViTEmbeddings(config));
    this.encoder = this.child('encoder', new ViTEncoder(config));
    this.layernorm = this.child('layernorm', new LayerNorm(config.hidden_size, config.layer_norm_eps));
    this.pooler = config.add_pooling_layer ? this.child('pooler', new ViTPooler(config)) : null;
    initViTWeights(this);
  }
  /**
   * pixel_values [B, C, H, W]. Position embeddings are interpolated when asked or, by default, when the
   * pixel size differs from the config's image_size (the reference raises there unless asked).
   */
  forward(
    pixelValues: Tensor,
    opts: { interpolatePosEncoding?: boolean; outputHiddenStates?: boolean } = {},
  ): ViTOutput {
    const [, , h, w] = pixelValues.shape as [number, number, number, number];
    const [ih, iw] = this.config.image_size;
    const interpolate = opts.interpolatePosEncoding ?? (h !== ih || w !== iw);
    const hiddenStates = opts.outputHiddenStates ? [] : undefined;
    const x = this.encoder.forward(this.embeddings.forward(pixelValues, interpolate), null, hiddenStates);
    const last = this.layernorm.forward(x);
    return {
      last_hidden_state: last,
      pooler_output: this.pooler ? this.pooler.forward(last) : null,
      ...(hiddenStates ? { hidden_states: hiddenStates } : {}),
    };
  }
}

/** transformers' ViT init: truncated normal(0, initializer_range) for weights and tokens, zero biases, LayerNorm 1/0. */
export function initViTWeights(model: ViTModel): void {
  const std = model.config.initializer_range;
  for (const [, m] of model.namedModules()) {
    if (m instanceof Linear || m instanceof Conv2d) {
      init.truncNormal(m.weight, 0, std);
      if (m.bias) init.zeros_(m.bias);
    } else if (m instanceof LayerNorm) {
      if (m.weight) init.ones_(m.weight);
      if (m.bias) init.zeros_(m.bias);
    }
  }
}

const HEAD_PREFIXES = ['classifier.', 'cls_classifier.', 'distillation_classifier.', 'decoder.'];

/** Checkpoint name -> ViTModel name: the task models' `vit.`/`deit.` prefix removed, their heads skipped. */
export function vitCheckpointName(name: string): string | null {
  if (HEAD_PREFIXES.some((p) => name.startsWith(p))) return null;
  const bare = name.replace(/^(vit|deit)\./, '');
  if (bare === 'embeddings.mask_token') return null;
  return bare;
}

export const family: ModelFamily<ViTModel> = {
  name: 'vit',
  modelTypes: VIT_MODEL_TYPES,
  build(config, opts = {}) {
    return new ViTModel(readViTConfig(config, opts.where));
  },
  load(model, source: TensorSource) {
    noGrad(() => loadCheckpointInto(model, source, { rename: vitCheckpointName }));
  },
  forwardNamed(model, inputs) {
    const pixels = inputs.get('pixel_values');
    if (!pixels)
      throw new Error(`ViT: the inputs have no "pixel_values" (got: ${[...inputs.keys()].join(', ') || 'none'})`);
    const out = inEvalMode(model, () => model.forward(pixels.to('float32')));
    const named = new Map<string, Tensor>([['last_hidden_state', out.last_hidden_state]]);
    if (out.pooler_output) named.set('pooler_output', out.pooler_output);
    return named;
  },
};

/** ViT / DeiT as a recipe's vision tower: pooled = pooler_output, or the final-LayerNorm [CLS] state without a pooler. */
export const visionTower: VisionTower<ViTModel> = {
  modelTypes: VIT_MODEL_TYPES,
  build: (config, where) => new ViTModel(readViTConfig(config, where)),
  load: (model, source) => family.load(model, source),
  hiddenSize: (model) => model.config.hidden_size,
  pooledWidth: (model) => (model.pooler ? model.config.pooler_output_size : model.config.hidden_size),
  patchSize: (model) => model.config.patch_size,
  prefixTokens: (model) => model.embeddings.numPrefix,
  forward(model, pixelValues) {
    const out = model.forward(pixelValues);
    return {
      last_hidden_state: out.last_hidden_state,
      pooler_output: out.pooler_output ?? out.last_hidden_state.select(1, 0),
    };
  },
};
