/**
 * SigLIP (transformers' SiglipModel): CLIP's encoder layers in a text tower without a causal mask that pools
 * its last token through a linear `head`, and a vision tower without class token or pre-LN that pools with a
 * multihead attention-pooling head (a learned `probe` attends over the patches, then LayerNorm + MLP with a
 * residual). Logits are `exp(logit_scale) * cos + logit_bias`; the loss is the pairwise sigmoid loss.
 *
 * Supported: model_type `siglip` with `text_config` / `vision_config` (`hidden_act`, `layer_norm_eps`, sizes,
 * `attention_dropout`, `projection_size`, `vision_use_head`); an optional padding `attention_mask` for
 * the text tower (the reference pipeline calls it without one: SigLIP was trained on max-length padding,
 * and pooling always takes the last position); vision position embeddings interpolated (bicubic, to the new
 * patch grid) when the pixel size differs from `image_size`.
 * NOT supported: SigLIP 2 (`siglip2`: NaFlex patches and pixel attention masks), SiglipForImageClassification,
 * stand-alone SiglipTextModel / SiglipVisionModel checkpoints.
 */
import { eye, F, noGrad, tensor, zeros, type Tensor } from '../tensor/index.js';
import { Conv2d, Embedding, init, LayerNorm, Linear, MLP, Module, MultiheadAttention } from '../nn/index.js';
import { ConfigReader, engineActivation, type Config } from './common.js';
import type { ModelFamily } from './family.js';
import type { VisionTower } from './towers.js';
import {
  CLIPAttention,
  CLIPEncoder,
  CLIPEncoderLayer,
  CLIPTextEmbeddings,
  l2normalize,
  paddingMask,
  readEncoderConfig,
  readSquare,
  dualEncoderForwardNamed,
  keepVisionTower,
  loadDualEncoder,
  loadVisionTower,
  type EncoderConfig,
  type TowerOutput,
} from './clip.js';
import { interpolateGrid } from './vit.js';

export interface SiglipTextConfig extends EncoderConfig {
  vocab_size: number;
  max_position_embeddings: number;
  projection_size: number;
  pad_token_id: number;
  eos_token_id: number;
}

export interface SiglipVisionConfig extends EncoderConfig {
  image_size: number;
  patch_size: number;
  num_channels: number;
  vision_use_head: boolean;
}

export interface SiglipConfig {
  model_type: 'siglip';
  text_config: SiglipTextConfig;
  vision_config: SiglipVisionConfig;
}

const SIGLIP_ARCHITECTURES = ['SiglipModel'];

/** Reads and checks a SigLIP config.json (errors name the field and what is supported). */
export function readSiglipConfig(config: Config, where = 'config.json'): SiglipConfig {
  const r = new ConfigReader(config, where);
  r.oneOf('model_type', ['siglip'] as const, 'siglip');
  const archs = (config['architectures'] as unknown[] | undefined) ?? [];
  for (const a of archs)
    if (typeof a !== 'string' || !SIGLIP_ARCHITECTURES.includes(a))
      throw new Error(
        `${where}: "architectures": ${JSON.stringify(a)} is not supported (supported: ${SIGLIP_ARCHITECTURES.join(', ')})`,
      );
  const t = r.section('text_config');
  const v = r.section('vision_config');
  const dflt = { hidden: 768, inter: 3072, layers: 12, heads: 12, act: 'gelu_pytorch_tanh', eps: 1e-6 } as const;
  const textEnc = readEncoderConfig(t, dflt);
  const text: SiglipTextConfig = {
    ...textEnc,
    vocab_size: t.int('vocab_size', 32000),
    max_position_embeddings: t.int('max_position_embeddings', 64),
    projection_size: t.int('projection_size', textEnc.hidden_size),
    pad_token_id: t.int('pad_token_id', 1),
    eos_token_id: t.int('eos_token_id', 2),
  };
  const vision: SiglipVisionConfig = {
    ...readEncoderConfig(v, dflt),
    image_size: readSquare(v, 'image_size', 224),
    patch_size: readSquare(v, 'patch_size', 16),
    num_channels: v.int('num_channels', 3),
    vision_use_head: v.bool('vision_use_head', true),
  };
  if (vision.image_size % vision.patch_size !== 0)
    throw new Error(
      `${where} › vision_config: "image_size" (${vision.image_size}) must be a multiple of "patch_size" (${vision.patch_size})`,
    );
  return { model_type: 'siglip', text_config: text, vision_config: vision };
}

// ---- text tower ----

export class SiglipTextTransformer extends Module {
  readonly embeddings: CLIPTextEmbeddings;
  readonly encoder: CLIPEncoder;
  readonly final_layer_norm: LayerNorm;
  readonly head: Linear;
  constructor(readonly config: SiglipTextConfig) {
    super();
    this.embeddings = this.child('embeddings', new CLIPTextEmbeddings(config));
    this.encoder = this.child('encoder', new CLIPEncoder(config));
    this.final_layer_norm = this.child('final_layer_norm', new LayerNorm(config.hidden_size, config.layer_norm_eps));
    this.head = this.child('head', new Linear(config.hidden_size, config.projection_size));
  }
  /** pooler_output = head(last token's final state): SigLIP's tokenizer pads to max length with eos last. */
  forward(inputIds: Tensor, attentionMask: Tensor | null = null): TowerOutput {
    const mask = attentionMask ? paddingMask(attentionMask) : null;
    const last = this.final_layer_norm.forward(this.encoder.forward(this.embeddings.forward(inputIds), mask));
    return { last_hidden_state: last, pooler_output: this.head.forward(last.select(1, last.size(1) - 1)) };
  }
}

// ---- vision tower ----

export class SiglipVisionEmbeddings extends Module {
  readonly patch_embedding: Conv2d;
  readonly position_embedding: Embedding;
  readonly grid: number;
  constructor(readonly config: SiglipVisionConfig) {
    super();
    const p = config.patch_size;
    this.patch_embedding = this.child(
      'patch_embedding',
      new Conv2d(config.num_channels, config.hidden_size, p, { stride: p }),
    );
    this.grid = config.image_size / p;
    this.position_embedding = this.child(
      'position_embedding',
      new Embedding(this.grid * this.grid, config.hidden_size),
    );
  }
  positions(height: number, width: number, numPatches: number): Tensor {
    const w = this.position_embedding.weight.unsqueeze(0);
    const g = this.grid;
    if (numPatches === g * g && height === width) return w;
    const p = this.config.patch_size;
    return interpolateGrid(w, [g, g], [Math.floor(height / p), Math.floor(width / p)]);
  }
  forward(pixelValues: Tensor, interpolatePosEncoding = false): Tensor {
    const [, c, height, width] = pixelValues.shape as [number, number, number, number];
    const size = this.config.image_size;
    if (c !== this.config.num_channels)
      throw new Error(`vision: pixel_values have ${c} channels but num_channels is ${this.config.num_channels}`);
    if (!interpolatePosEncoding && (height !== size || width !== size))
      throw new Error(
        `vision: pixel_values are ${height}x${width} but the model's image_size is ${size}x${size} (interpolate the position embeddings to use other sizes)`,
      );
    const patches = this.patch_embedding.forward(pixelValues).flatten(2).transpose(1, 2);
    return patches.add(this.positions(height, width, patches.size(1)));
  }
}

/** Multihead attention pooling: one learned query (`probe`) over all patches, then LayerNorm + MLP. */
export class SiglipMultiheadAttentionPoolingHead extends Module {
  readonly probe: Tensor;
  readonly attention: MultiheadAttention;
  readonly layernorm: LayerNorm;
  readonly mlp: MLP;
  constructor(readonly config: SiglipVisionConfig) {
    super();
    const h = config.hidden_size;
    this.probe = this.param('probe', zeros([1, 1, h]).normal_());
    this.attention = this.child('attention', new MultiheadAttention(h, config.num_attention_heads));
    this.layernorm = this.child('layernorm', new LayerNorm(h, config.layer_norm_eps));
    this.mlp = this.child('mlp', new MLP(h, config.intermediate_size, h, engineActivation(config.hidden_act)));
  }
  forward(hidden: Tensor): Tensor {
    const b = hidden.size(0);
    const h = this.config.hidden_size;
    const attended = this.attention.forward(this.probe.expand(b, 1, h), hidden, hidden);
    return this.mlp.forward(this.layernorm.forward(attended)).add(attended).select(1, 0);
  }
}

export interface SiglipVisionOutput {
  last_hidden_state: Tensor;
  pooler_output: Tensor | null;
}

export class SiglipVisionTransformer extends Module {
  readonly embeddings: SiglipVisionEmbeddings;
  readonly encoder: CLIPEncoder;
  readonly post_layernorm: LayerNorm;
  readonly head: SiglipMultiheadAttentionPoolingHead | null;
  constructor(readonly config: SiglipVisionConfig) {
    super();
    this.embeddings = this.child('embeddings', new SiglipVisionEmbeddings(config));
    this.encoder = this.child('encoder', new CLIPEncoder(config));
    this.post_layernorm = this.child('post_layernorm', new LayerNorm(config.hidden_size, config.layer_norm_eps));
    this.head = config.vision_use_head ? this.child('head', new SiglipMultiheadAttentionPoolingHead(config)) : null;
  }
  forward(pixelValues: Tensor, interpolatePosEncoding?: boolean): SiglipVisionOutput {
    const [, , height, width] = pixelValues.shape as [number, number, number, number];
    const size = this.config.image_size;
    const interpolate = interpolatePosEncoding ?? (height !== size || width !== size);
    const last = this.post_layernorm.forward(this.encoder.forward(this.embeddings.forward(pixelValues, interpolate)));
    return { last_hidden_state: last, pooler_output: this.head ? this.head.forward(last) : null };
  }
}

// ---- the dual encoder ----

export interface SiglipOutput {
  loss?: Tensor;
  logits_per_image: Tensor;
  logits_per_text: Tensor;
  text_embeds: Tensor;
  image_embeds: Tensor;
  text_model_output: TowerOutput;
  vision_model_output: SiglipVisionOutput;
}

/** The pairwise sigmoid loss: mean over texts of -Σ_images log σ(±logit), + on the diagonal (matches). */
export function siglipLoss(logitsPerText: Tensor): Tensor {
  const n = logitsPerText.size(0);
  if (logitsPerText.size(1) !== n)
    throw new Error(`SigLIP loss needs as many texts as images, got ${n} texts and ${logitsPerText.size(1)} images`);
  const signs = eye(n, { device: logitsPerText.device }).mul(2).sub(1);
  return F.logSigmoid(signs.mul(logitsPerText)).sum(-1).neg().mean();
}

export class SiglipModel extends Module {
  readonly text_model: SiglipTextTransformer;
  readonly vision_model: SiglipVisionTransformer;
  readonly logit_scale: Tensor;
  readonly logit_bias: Tensor;
  constructor(readonly config: SiglipConfig) {
    super();
    if (!config.vision_config.vision_use_head)
      throw new Error(
        'SiglipModel needs the vision attention-pooling head ("vision_use_head": false is not supported here)',
      );
    this.text_model = this.child('text_model', new SiglipTextTransformer(config.text_config));
    this.vision_model = this.child('vision_model', new SiglipVisionTransformer(config.vision_config));
    this.logit_scale = this.param('logit_scale', tensor([0]));
    this.logit_bias = this.param('logit_bias', tensor([0]));
    initSiglipWeights(this);
  }
  forward(inputs: {
    input_ids: Tensor;
    pixel_values: Tensor;
    attention_mask?: Tensor | null;
    return_loss?: boolean;
    interpolate_pos_encoding?: boolean;
  }): SiglipOutput {
    const vision = this.vision_model.forward(inputs.pixel_values, inputs.interpolate_pos_encoding);
    const text = this.text_model.forward(inputs.input_ids, inputs.attention_mask ?? null);
    const imageEmbeds = l2normalize(vision.pooler_output!);
    const textEmbeds = l2normalize(text.pooler_output);
    const logitsPerText = textEmbeds
      .matmul(imageEmbeds.transpose(0, 1))
      .mul(this.logit_scale.exp())
      .add(this.logit_bias);
    const out: SiglipOutput = {
      logits_per_image: logitsPerText.transpose(0, 1),
      logits_per_text: logitsPerText,
      text_embeds: textEmbeds,
      image_embeds: imageEmbeds,
      text_model_output: text,
      vision_model_output: vision,
    };
    if (inputs.return_loss) out.loss = siglipLoss(logitsPerText);
    return out;
  }
}

function xavierUniform(t: Tensor, fanIn: number, fanOut: number): void {
  const bound = Math.sqrt(6 / (fanIn + fanOut));
  init.uniform(t, -bound, bound);
}

/** lecun_normal_ as transformers' SigLIP: std sqrt(1/fan_in) / 0.8796 truncated at 2 std. */
function lecunNormal(t: Tensor): void {
  const std = Math.sqrt(1 / init.fanIn(t.shape)) / 0.8796256610342398;
  init.truncNormal(t, 0, std, -2 * std, 2 * std);
}

/** transformers' SigLIP init (xavier for attention and MLP, lecun normal for the other linears, ...). */
export function initSiglipWeights(model: SiglipModel): void {
  noGrad(() => {
    for (const [, m] of model.namedModules()) {
      if (m instanceof LayerNorm) {
        if (m.weight) init.ones_(m.weight);
        if (m.bias) init.zeros_(m.bias);
      } else if (m instanceof CLIPAttention) {
        for (const l of [m.q_proj, m.k_proj, m.v_proj, m.out_proj]) {
          xavierUniform(l.weight, l.inFeatures, l.outFeatures);
          init.zeros_(l.bias!);
        }
      } else if (m instanceof CLIPEncoderLayer || m instanceof SiglipMultiheadAttentionPoolingHead) {
        for (const l of [m.mlp.fc1, m.mlp.fc2]) {
          xavierUniform(l.weight, l.inFeatures, l.outFeatures);
          init.normal(l.bias!, 0, 1e-6);
        }
      }
    }
    const head = model.vision_model.head!;
    const h = model.config.vision_config.hidden_size;
    xavierUniform(head.probe, h, h);
    xavierUniform(head.attention.inProjWeight, h, 3 * h);
    init.zeros_(head.attention.inProjBias);
    lecunNormal(head.attention.outProj.weight);
    init.zeros_(head.attention.outProj.bias!);
    const v = model.vision_model.embeddings;
    init.normal(v.position_embedding.weight, 0, 1 / Math.sqrt(h));
    lecunNormal(v.patch_embedding.weight);
    init.zeros_(v.patch_embedding.bias!);
    const t = model.text_model;
    init.normal(t.embeddings.token_embedding.weight, 0, 1 / Math.sqrt(model.config.text_config.hidden_size));
    init.normal(t.embeddings.position_embedding.weight, 0, 1 / Math.sqrt(model.config.text_config.hidden_size));
    lecunNormal(t.head.weight);
    init.zeros_(t.head.bias!);
    model.logit_scale.zero_(); // log(1)
    model.logit_bias.zero_();
  });
}

export const family: ModelFamily<SiglipModel> = {
  name: 'siglip',
  modelTypes: ['siglip'],
  build(config, opts = {}) {
    return new SiglipModel(readSiglipConfig(config, opts.where));
  },
  load: loadDualEncoder,
  forwardNamed: (model, inputs) => dualEncoderForwardNamed(model, inputs, 'SigLIP').named,
};

/** SigLIP's vision transformer as a recipe's vision tower: pooled = the attention-pooling head's output. */
export const visionTower: VisionTower<SiglipVisionTransformer> = {
  modelTypes: ['siglip'],
  build: (config, where) => keepVisionTower(new SiglipModel(readSiglipConfig(config, where))),
  load: loadVisionTower,
  hiddenSize: (model) => model.config.hidden_size,
  pooledWidth: (model) => model.config.hidden_size,
  patchSize: (model) => [model.config.patch_size, model.config.patch_size],
  prefixTokens: () => 0,
  forward(model, pixelValues) {
    const out = model.forward(pixelValues);
    if (!out.pooler_output)
      throw new Error(
        'siglip vision tower: the checkpoint has no pooling head (vision_use_head false): no pooled output',
      );
    return { last_hidden_state: out.last_hidden_state, pooler_output: out.pooler_output };
  },
};
