/**
 * ViLT (Kim et al. 2021; Hugging Face `ViltModel`, model_type "vilt"): one transformer over BERT-style text
 * embeddings and ViT-style patch embeddings of the image, told apart by modality type embeddings. Supported:
 * every option of ViltConfig that changes the computation (hidden_act, layer_norm_eps, qkv_bias, image_size and
 * patch_size as integers, num_channels, max_image_length, modality and token type vocabularies, pad_token_id),
 * `pixel_mask` (position embeddings interpolated per image to its valid patch grid, padding patches masked),
 * checkpoints of ViltModel and of the task classes built on it (ViltForMaskedLM as `dandelin/vilt-b32-mlm`,
 * ViltForQuestionAnswering, ...): their `vilt.` prefix is stripped and their head tensors are skipped.
 *
 * Image token order: the reference draws the image tokens in a random order (torch.multinomial) on every call.
 * Here the order is DETERMINISTIC: all valid patches in raster order when they fit max_image_length, otherwise a
 * selection drawn by a seeded generator (`imageTokenSeed`, default 0) and kept in raster order; images with fewer
 * valid patches than the batch's image length are padded with their first invalid patches (raster order,
 * cycling), which are masked out of attention as in the reference. The set of image tokens is the reference's
 * whenever the reference keeps all valid patches; only their order differs.
 *
 * Not supported: `image_embeds` / `inputs_embeds` inputs, heads (masked LM, VQA, retrieval, NLVR2), image_size
 * or patch_size given as pairs, attention outputs, an image whose pixel_mask leaves no patch valid.
 */
import { arange, cat, F, full, noGrad, ones, tensor, tidy, zeros, type Tensor } from '../tensor/index.js';
import { Conv2d, Embedding, LayerNorm, Linear, Module, ModuleList } from '../nn/index.js';
import type { TensorSource } from '../io/safetensors.js';
import { SeededRandom } from '../runtime/random.js';
import {
  ConfigReader,
  engineActivation,
  extendedAttentionMask,
  HIDDEN_ACTS,
  loadCheckpointInto,
  mergeHeads,
  splitHeads,
  type Config,
  type HiddenAct,
  initHfWeights,
  FirstTokenPooler,
} from './common.js';
import type { ModelFamily } from './family.js';

export interface ViltConfig {
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: HiddenAct;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  modality_type_vocab_size: number;
  initializer_range: number;
  layer_norm_eps: number;
  image_size: number;
  patch_size: number;
  num_channels: number;
  qkv_bias: boolean;
  /** Image tokens per image (besides [CLS]); -1: as many as the largest valid patch grid of the batch. */
  max_image_length: number;
  pad_token_id: number | null;
}

/** Classes whose checkpoints hold a ViltModel under `vilt.` (their heads are skipped on loading). */
export const VILT_ARCHITECTURES = [
  'ViltModel',
  'ViltForMaskedLM',
  'ViltForQuestionAnswering',
  'ViltForImageAndTextRetrieval',
  'ViltForImagesAndTextClassification',
  'ViltForTokenClassification',
] as const;

/** Reads and checks a ViLT config.json (errors name the field and what is supported). */
export function readViltConfig(config: Config, where = 'config.json'): ViltConfig {
  const r = new ConfigReader(config, where);
  r.oneOf('model_type', ['vilt'], 'vilt');
  if (r.has('architectures')) {
    const arch = config.architectures;
    if (!Array.isArray(arch) || arch.some((a) => !(VILT_ARCHITECTURES as readonly string[]).includes(String(a))))
      throw new Error(
        `${where}: "architectures": ${JSON.stringify(arch)} is not supported (supported: ${VILT_ARCHITECTURES.join(', ')})`,
      );
  }
  for (const key of ['image_size', 'patch_size'])
    if (r.has(key) && typeof config[key] !== 'number')
      throw new Error(
        `${where}: field "${key}" must be one integer (square images and patches are supported), got ${JSON.stringify(config[key])}`,
      );
  const c: ViltConfig = {
    vocab_size: r.int('vocab_size', 30522),
    hidden_size: r.int('hidden_size', 768),
    num_hidden_layers: r.int('num_hidden_layers', 12),
    num_attention_heads: r.int('num_attention_heads', 12),
    intermediate_size: r.int('intermediate_size', 3072),
    hidden_act: r.oneOf('hidden_act', HIDDEN_ACTS, 'gelu'),
    hidden_dropout_prob: r.num('hidden_dropout_prob', 0),
    attention_probs_dropout_prob: r.num('attention_probs_dropout_prob', 0),
    max_position_embeddings: r.int('max_position_embeddings', 40),
    type_vocab_size: r.int('type_vocab_size', 2),
    modality_type_vocab_size: r.int('modality_type_vocab_size', 2),
    initializer_range: r.num('initializer_range', 0.02),
    layer_norm_eps: r.num('layer_norm_eps', 1e-12),
    image_size: r.int('image_size', 384),
    patch_size: r.int('patch_size', 32),
    num_channels: r.int('num_channels', 3),
    qkv_bias: r.bool('qkv_bias', true),
    max_image_length: r.int('max_image_length', -1),
    pad_token_id: r.has('pad_token_id') ? r.int('pad_token_id') : null,
  };
  if (c.hidden_size % c.num_attention_heads !== 0)
    throw new Error(
      `${where}: "hidden_size" (${c.hidden_size}) must be a multiple of "num_attention_heads" (${c.num_attention_heads})`,
    );
  if (c.image_size % c.patch_size !== 0)
    throw new Error(`${where}: "image_size" (${c.image_size}) must be a multiple of "patch_size" (${c.patch_size})`);
  if (c.max_image_length === 0 || c.max_image_length < -1)
    throw new Error(
      `${where}: "max_image_length" must be -1 (all patches) or a positive integer, got ${c.max_image_length}`,
    );
  if (c.modality_type_vocab_size < 2)
    throw new Error(
      `${where}: "modality_type_vocab_size" must be at least 2 (text and image), got ${c.modality_type_vocab_size}`,
    );
  if (c.pad_token_id !== null && (c.pad_token_id < 0 || c.pad_token_id >= c.vocab_size))
    throw new Error(
      `${where}: "pad_token_id" ${c.pad_token_id} is outside the vocabulary (vocab_size ${c.vocab_size})`,
    );
  return c;
}

class ViltTextEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly token_type_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;
  constructor(readonly c: ViltConfig) {
    super();
    this.word_embeddings = this.child(
      'word_embeddings',
      new Embedding(c.vocab_size, c.hidden_size, c.pad_token_id === null ? {} : { paddingIdx: c.pad_token_id }),
    );
    this.position_embeddings = this.child(
      'position_embeddings',
      new Embedding(c.max_position_embeddings, c.hidden_size),
    );
    this.token_type_embeddings = this.child('token_type_embeddings', new Embedding(c.type_vocab_size, c.hidden_size));
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(c.hidden_size, c.layer_norm_eps));
  }
  forward(inputIds: Tensor, tokenTypeIds: Tensor): Tensor {
    const [b, l] = inputIds.shape as [number, number];
    if (l > this.c.max_position_embeddings)
      throw new Error(
        `ViltModel: input_ids has ${l} tokens, more than max_position_embeddings (${this.c.max_position_embeddings})`,
      );
    const positions = arange(0, l, 1, { dtype: 'int64', device: inputIds.device }).view(1, l).expand(b, l);
    const sum = this.word_embeddings
      .forward(inputIds)
      .add(this.token_type_embeddings.forward(tokenTypeIds))
      .add(this.position_embeddings.forward(positions));
    return F.dropout(this.LayerNorm.forward(sum), this.c.hidden_dropout_prob, this.training);
  }
}

class ViltPatchEmbeddings extends Module {
  readonly projection: Conv2d;
  constructor(c: ViltConfig) {
    super();
    this.projection = this.child(
      'projection',
      new Conv2d(c.num_channels, c.hidden_size, c.patch_size, { stride: c.patch_size }),
    );
  }
  forward(pixelValues: Tensor): Tensor {
    const w = this.projection.weight.dtype;
    return this.projection.forward(pixelValues.dtype === w ? pixelValues : pixelValues.to(w));
  }
}

/** Which patches become image tokens: flat patch indices per image and whether each one is a valid patch. */
export interface PatchSelection {
  index: number[][];
  valid: boolean[][];
}

/**
 * Chooses the image tokens of each image from its patch mask ([B][rows*cols] of 0/1): `length` tokens each,
 * valid patches first in raster order (a seeded subset of them, kept in raster order, when there are more than
 * `length`), then invalid patches as padding (raster order, cycling).
 */
export function selectPatches(mask: number[][], length: number, seed = 0): PatchSelection {
  const index: number[][] = [];
  const valid: boolean[][] = [];
  mask.forEach((m, b) => {
    const on: number[] = [];
    const off: number[] = [];
    m.forEach((v, i) => (v ? on : off).push(i));
    if (on.length === 0) throw new Error(`ViltModel: pixel_mask of image ${b} leaves no patch valid`);
    let chosen: number[];
    if (on.length > length) {
      // partial Fisher-Yates with a per-image stream, then raster order again
      const rng = new SeededRandom(seed * 1000003 + b, 'mulberry32');
      const pool = on.slice();
      for (let i = 0; i < length; i++) {
        const j = i + Math.floor(rng.next() * (pool.length - i));
        [pool[i], pool[j]] = [pool[j]!, pool[i]!];
      }
      chosen = pool.slice(0, length).sort((x, y) => x - y);
      index.push(chosen);
      valid.push(chosen.map(() => true));
      return;
    }
    const pad = length - on.length;
    chosen = on.concat(Array.from({ length: pad }, (_, i) => off[i % off.length]!));
    index.push(chosen);
    valid.push(chosen.map((_, i) => i < on.length));
  });
  return { index, valid };
}

class ViltEmbeddings extends Module {
  readonly text_embeddings: ViltTextEmbeddings;
  readonly cls_token: Tensor;
  readonly patch_embeddings: ViltPatchEmbeddings;
  readonly position_embeddings: Tensor;
  readonly token_type_embeddings: Embedding;
  readonly grid: number;
  constructor(readonly c: ViltConfig) {
    super();
    this.grid = c.image_size / c.patch_size;
    this.text_embeddings = this.child('text_embeddings', new ViltTextEmbeddings(c));
    // As the reference: cls_token and position_embeddings start at zero (its _init_weights leaves them).
    this.cls_token = this.param('cls_token', zeros([1, 1, c.hidden_size]));
    this.patch_embeddings = this.child('patch_embeddings', new ViltPatchEmbeddings(c));
    this.position_embeddings = this.param('position_embeddings', zeros([1, this.grid * this.grid + 1, c.hidden_size]));
    this.token_type_embeddings = this.child(
      'token_type_embeddings',
      new Embedding(c.modality_type_vocab_size, c.hidden_size),
    );
  }

  /** Patch tokens with interpolated position embeddings: [B, 1 + L, H], mask [B, 1 + L] (int64), selection. */
  visual(
    pixelValues: Tensor,
    pixelMask: Tensor,
    seed: number,
  ): { embeds: Tensor; mask: Tensor; selection: PatchSelection } {
    const H = this.c.hidden_size;
    const x = this.patch_embeddings.forward(pixelValues); // [B, H, rows, cols]
    const [B, , rows, cols] = x.shape as [number, number, number, number];
    // the mask at patch resolution, as the reference: nearest interpolation of the pixel mask
    const small = noGrad(() =>
      F.interpolate(pixelMask.to('float32').unsqueeze(1), { size: [rows, cols], mode: 'nearest' }),
    );
    const flat = small.to('cpu').toArray();
    const mask: number[][] = [];
    for (let b = 0; b < B; b++)
      mask.push(flat.slice(b * rows * cols, (b + 1) * rows * cols).map((v) => (v >= 1 ? 1 : 0)));
    // valid grid of each image: rows valid in its first column, columns valid in its first row
    const hw = mask.map((m) => {
      let h = 0;
      let w = 0;
      for (let r = 0; r < rows; r++) h += m[r * cols]!;
      for (let q = 0; q < cols; q++) w += m[q]!;
      return [h, w] as [number, number];
    });
    const largest = Math.max(...hw.map(([h, w]) => h * w));
    const length = this.c.max_image_length < 0 ? largest : Math.min(largest, this.c.max_image_length);
    if (length === 0) throw new Error('ViltModel: pixel_mask leaves no patch valid in any image');
    const selection = selectPatches(mask, length, seed);

    // position embeddings of the checkpoint's grid, resized (bilinear, corners aligned) to each image's valid grid
    const spatial = this.position_embeddings.slice(1, 1).transpose(1, 2).reshape(1, H, this.grid, this.grid);
    const like = { dtype: spatial.dtype, device: spatial.device };
    const cache = new Map<string, Tensor>();
    const perImage = hw.map(([h, w]) => {
      const key = `${h}x${w}`;
      let p = cache.get(key);
      if (!p) {
        p =
          h > 0 && w > 0
            ? F.interpolate(spatial, { size: [h, w], mode: 'bilinear', alignCorners: true })
            : zeros([1, H, 0, 0], like);
        if (w < cols) p = cat([p, zeros([1, H, h, cols - w], like)], 3);
        if (h < rows) p = cat([p, zeros([1, H, rows - h, cols], like)], 2);
        cache.set(key, p);
      }
      return p;
    });
    const pos = cat(perImage, 0)
      .flatten(2)
      .transpose(1, 2)
      .reshape(B * rows * cols, H);
    const patches = x
      .flatten(2)
      .transpose(1, 2)
      .reshape(B * rows * cols, H);
    const flatIndex = tensor(
      selection.index.flatMap((ix, b) => ix.map((i) => b * rows * cols + i)),
      { dtype: 'int64', device: x.device },
    );
    const tokens = patches.indexSelect(0, flatIndex).view(B, length, H);
    const tokenPos = pos.indexSelect(0, flatIndex).view(B, length, H);
    const withCls = cat([this.cls_token.expand(B, 1, H), tokens], 1);
    const allPos = cat([this.position_embeddings.slice(1, 0, 1).expand(B, 1, H), tokenPos], 1);
    const embeds = F.dropout(withCls.add(allPos), this.c.hidden_dropout_prob, this.training);
    const tokenMask = tensor(
      selection.valid.map((v) => [1, ...v.map((ok) => (ok ? 1 : 0))]),
      { dtype: 'int64', device: x.device },
    );
    return { embeds, mask: tokenMask, selection };
  }

  forward(inputs: ViltInputs): { embeddings: Tensor; mask: Tensor; textLength: number; selection: PatchSelection } {
    const ids = inputs.input_ids;
    const [B, T] = ids.shape as [number, number];
    const int = { dtype: 'int64', device: ids.device } as const;
    const attentionMask = inputs.attention_mask ?? ones([B, T], int);
    const tokenTypes = inputs.token_type_ids ?? zeros([B, T], int);
    const pixelMask = inputs.pixel_mask ?? ones([B, this.c.image_size, this.c.image_size], int);
    const text = this.text_embeddings.forward(ids, tokenTypes);
    const image = this.visual(inputs.pixel_values, pixelMask, inputs.imageTokenSeed ?? 0);
    const L = image.mask.size(1);
    const imageType = inputs.image_token_type_idx ?? 1;
    if (imageType < 0 || imageType >= this.c.modality_type_vocab_size)
      throw new Error(
        `ViltModel: image_token_type_idx ${imageType} is outside modality_type_vocab_size (${this.c.modality_type_vocab_size})`,
      );
    const textTyped = text.add(this.token_type_embeddings.forward(zeros([B, T], int)));
    const imageTyped = image.embeds.add(this.token_type_embeddings.forward(full([B, L], imageType, int)));
    return {
      embeddings: cat([textTyped, imageTyped], 1),
      mask: cat([attentionMask.to('int64'), image.mask], 1),
      textLength: T,
      selection: image.selection,
    };
  }
}

// Copied from models/vit.ts ViTSelfAttention (names: ViT->Vilt)
class ViltSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  constructor(readonly config: ViltConfig) {
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

// Copied from models/vit.ts ViTSelfOutput (names: ViT->Vilt)
class ViltSelfOutput extends Module {
  readonly dense: Linear;
  constructor(readonly config: ViltConfig) {
    super();
    this.dense = this.child('dense', new Linear(config.hidden_size, config.hidden_size));
  }
  forward(x: Tensor): Tensor {
    return F.dropout(this.dense.forward(x), this.config.hidden_dropout_prob, this.training);
  }
}

// Copied from models/vit.ts ViTAttention (names: ViT->Vilt)
class ViltAttention extends Module {
  readonly attention: ViltSelfAttention;
  readonly output: ViltSelfOutput;
  constructor(config: ViltConfig) {
    super();
    this.attention = this.child('attention', new ViltSelfAttention(config));
    this.output = this.child('output', new ViltSelfOutput(config));
  }
  forward(x: Tensor, mask: Tensor | null): Tensor {
    return this.output.forward(this.attention.forward(x, mask));
  }
}

// Copied from models/vit.ts ViTDense (names: ViT->Vilt)
class ViltDense extends Module {
  readonly dense: Linear;
  constructor(inF: number, outF: number) {
    super();
    this.dense = this.child('dense', new Linear(inF, outF));
  }
}

/** Pre-LayerNorm block (ViT style): h = x + attention(LN(x)), then h + mlp(LN(h)). */
// Copied from models/vit.ts ViTLayer (names: ViT->Vilt)
class ViltLayer extends Module {
  readonly attention: ViltAttention;
  readonly intermediate: ViltDense;
  readonly output: ViltDense;
  readonly layernorm_before: LayerNorm;
  readonly layernorm_after: LayerNorm;
  constructor(readonly config: ViltConfig) {
    super();
    const h = config.hidden_size;
    this.attention = this.child('attention', new ViltAttention(config));
    this.intermediate = this.child('intermediate', new ViltDense(h, config.intermediate_size));
    this.output = this.child('output', new ViltDense(config.intermediate_size, h));
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

// Copied from models/vit.ts ViTEncoder (names: ViT->Vilt)
class ViltEncoder extends Module {
  readonly layer: ModuleList<ViltLayer>;
  constructor(config: ViltConfig) {
    super();
    this.layer = this.child(
      'layer',
      new ModuleList(Array.from({ length: config.num_hidden_layers }, () => new ViltLayer(config))),
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

export interface ViltInputs {
  input_ids: Tensor;
  pixel_values: Tensor;
  attention_mask?: Tensor;
  token_type_ids?: Tensor;
  /** [B, height, width] 1 = real pixel, 0 = padding (ViltImageProcessor pads a batch to its largest image). */
  pixel_mask?: Tensor;
  /** Modality type of the image tokens (1; NLVR2 uses 2 for a second image). */
  image_token_type_idx?: number;
  /** Seed of the patch selection when an image has more valid patches than max_image_length. */
  imageTokenSeed?: number;
  output_hidden_states?: boolean;
}

export interface ViltOutputs {
  /** [B, T + 1 + L, H]: text tokens, then [CLS] of the image, then L image tokens (after the final LayerNorm). */
  last_hidden_state: Tensor;
  /** tanh(dense(state of the first text token)) [B, H]. */
  pooler_output: Tensor;
  /** Number of text tokens T (image tokens start there). */
  text_length: number;
  /** Attention mask of the whole sequence [B, T + 1 + L] (int64). */
  attention_mask: Tensor;
  /** The flat patch index (row * cols + col) of each image token after [CLS], and whether it is a real patch. */
  image_patches: PatchSelection;
  hidden_states?: Tensor[];
}

export class ViltModel extends Module {
  readonly embeddings: ViltEmbeddings;
  readonly encoder: ViltEncoder;
  readonly layernorm: LayerNorm;
  readonly pooler: FirstTokenPooler;
  constructor(readonly config: ViltConfig) {
    super();
    this.embeddings = this.child('embeddings', new ViltEmbeddings(config));
    this.encoder = this.child('encoder', new ViltEncoder(config));
    this.layernorm = this.child('layernorm', new LayerNorm(config.hidden_size, config.layer_norm_eps));
    this.pooler = this.child('pooler', new FirstTokenPooler(config.hidden_size));
    initHfWeights(this, config.initializer_range);
  }

  forward(inputs: ViltInputs): ViltOutputs {
    const B = inputs.input_ids.size(0);
    if (inputs.pixel_values.size(0) !== B)
      throw new Error(`ViltModel: input_ids has batch size ${B} but pixel_values has ${inputs.pixel_values.size(0)}`);
    if (inputs.pixel_values.size(1) !== this.config.num_channels)
      throw new Error(
        `ViltModel: pixel_values has ${inputs.pixel_values.size(1)} channels, the config says num_channels ${this.config.num_channels}`,
      );
    const emb = this.embeddings.forward(inputs);
    const extended = extendedAttentionMask(emb.mask);
    const hidden = inputs.output_hidden_states ? ([] as Tensor[]) : undefined;
    const seq = this.layernorm.forward(this.encoder.forward(emb.embeddings, extended, hidden));
    return {
      last_hidden_state: seq,
      pooler_output: this.pooler.forward(seq),
      text_length: emb.textLength,
      attention_mask: emb.mask,
      image_patches: emb.selection,
      ...(hidden ? { hidden_states: hidden } : {}),
    };
  }
}

/** Hugging Face's _init_weights: N(0, range) for Linear, Conv2d and Embedding weights (padding row zero), zero biases, LayerNorm 1/0. */

/** Checkpoint name -> ViltModel name: the task classes' `vilt.` prefix goes, their heads are skipped. */
export function viltCheckpointName(name: string): string | null {
  if (name.startsWith('vilt.')) return name.slice('vilt.'.length);
  if (/^(embeddings|encoder|layernorm|pooler)\./.test(name)) return name;
  return null;
}

function requireInput(inputs: Map<string, Tensor>, name: string): Tensor {
  const t = inputs.get(name);
  if (!t) throw new Error(`ViltModel: input "${name}" is missing (got: ${[...inputs.keys()].join(', ') || 'none'})`);
  return t;
}

export const family: ModelFamily<ViltModel> = {
  name: 'vilt',
  modelTypes: ['vilt'],
  build(config, opts = {}) {
    return new ViltModel(readViltConfig(config, opts.where));
  },
  load(model, source: TensorSource) {
    loadCheckpointInto(model, source, { rename: viltCheckpointName });
  },
  forwardNamed(model, inputs) {
    model.eval();
    const out = noGrad(() =>
      model.forward({
        input_ids: requireInput(inputs, 'input_ids'),
        pixel_values: requireInput(inputs, 'pixel_values'),
        attention_mask: inputs.get('attention_mask'),
        token_type_ids: inputs.get('token_type_ids'),
        pixel_mask: inputs.get('pixel_mask'),
      }),
    );
    // transformers' ViltModel outputs: last_hidden_state over the text tokens then the image tokens (the
    // image's [CLS] first), and pooler_output. Its ViltEmbeddings draws the order of the image patches at random
    // (torch.multinomial); tandem keeps them in raster order, so the rows after the text compare as a set.
    return new Map([
      ['last_hidden_state', out.last_hidden_state],
      ['pooler_output', out.pooler_output],
    ]);
  },
};
