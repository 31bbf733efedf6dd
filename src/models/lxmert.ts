/**
 * LXMERT (Tan & Bansal 2019; Hugging Face `LxmertModel`, model_type "lxmert"): two streams, a BERT-style language
 * encoder (l_layers) and a relational encoder over object regions (r_layers), joined by cross-modality layers
 * (x_layers) whose one cross-attention block serves both directions. The regions come as `visual_feats`
 * [B, R, visual_feat_dim] (detector RoI features) and `visual_pos` [B, R, visual_pos_dim] (boxes x1, y1, x2, y2
 * normalised to [0, 1]); `visual_attention_mask` [B, R] is optional. Supported: every LxmertConfig option that
 * changes the computation (hidden_act, layer counts, feature and box sizes, vocabularies), checkpoints of
 * LxmertModel and of LxmertForPreTraining / LxmertForQuestionAnswering (as `unc-nlp/lxmert-base-uncased`: the
 * `lxmert.` prefix is stripped and the heads are skipped). LayerNorm eps is 1e-12 as the reference hard-codes it
 * (a config `layer_norm_eps` is ignored there, so here too).
 *
 * Without a detector, `patchRegions` turns a vision encoder's patch states into region features: the patch grid,
 * optionally average-pooled to fewer regions, with each region's box. The pre-trained visual projection expects
 * Faster R-CNN features (2048 wide); for features of another width build the model with visual_feat_dim set to
 * that width and load with `loadLxmertCheckpoint(model, source, { newVisualProjection: true })`, which keeps the
 * freshly initialised projection (it must then be fine-tuned).
 *
 * Not supported: the pre-training and QA heads themselves, `inputs_embeds`, attention outputs.
 */
import { arange, cat, F, noGrad, ones, tensor, tidy, zeros, type Tensor } from '../tensor/index.js';
import { Embedding, LayerNorm, Linear, Module, ModuleList } from '../nn/index.js';
import type { TensorSource } from '../io/safetensors.js';
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

/** LayerNorm eps of every LXMERT LayerNorm (fixed in the reference). */
const LXMERT_LN_EPS = 1e-12;

export interface LxmertConfig {
  vocab_size: number;
  hidden_size: number;
  num_attention_heads: number;
  intermediate_size: number;
  hidden_act: HiddenAct;
  hidden_dropout_prob: number;
  attention_probs_dropout_prob: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  initializer_range: number;
  l_layers: number;
  x_layers: number;
  r_layers: number;
  visual_feat_dim: number;
  visual_pos_dim: number;
}

/** Classes whose checkpoints hold an LxmertModel under `lxmert.` (their heads are skipped on loading). */
export const LXMERT_ARCHITECTURES = ['LxmertModel', 'LxmertForPreTraining', 'LxmertForQuestionAnswering'] as const;

/** Reads and checks an LXMERT config.json (errors name the field and what is supported). */
export function readLxmertConfig(config: Config, where = 'config.json'): LxmertConfig {
  const r = new ConfigReader(config, where);
  r.oneOf('model_type', ['lxmert'], 'lxmert');
  if (r.has('architectures')) {
    const arch = config.architectures;
    if (!Array.isArray(arch) || arch.some((a) => !(LXMERT_ARCHITECTURES as readonly string[]).includes(String(a))))
      throw new Error(
        `${where}: "architectures": ${JSON.stringify(arch)} is not supported (supported: ${LXMERT_ARCHITECTURES.join(', ')})`,
      );
  }
  const c: LxmertConfig = {
    vocab_size: r.int('vocab_size', 30522),
    hidden_size: r.int('hidden_size', 768),
    num_attention_heads: r.int('num_attention_heads', 12),
    intermediate_size: r.int('intermediate_size', 3072),
    hidden_act: r.oneOf('hidden_act', HIDDEN_ACTS, 'gelu'),
    hidden_dropout_prob: r.num('hidden_dropout_prob', 0.1),
    attention_probs_dropout_prob: r.num('attention_probs_dropout_prob', 0.1),
    max_position_embeddings: r.int('max_position_embeddings', 512),
    type_vocab_size: r.int('type_vocab_size', 2),
    initializer_range: r.num('initializer_range', 0.02),
    l_layers: r.int('l_layers', 9),
    x_layers: r.int('x_layers', 5),
    r_layers: r.int('r_layers', 5),
    visual_feat_dim: r.int('visual_feat_dim', 2048),
    visual_pos_dim: r.int('visual_pos_dim', 4),
  };
  if (c.hidden_size % c.num_attention_heads !== 0)
    throw new Error(
      `${where}: "hidden_size" (${c.hidden_size}) must be a multiple of "num_attention_heads" (${c.num_attention_heads})`,
    );
  for (const key of ['l_layers', 'x_layers', 'r_layers'] as const)
    if (c[key] < 0) throw new Error(`${where}: "${key}" must be 0 or more, got ${c[key]}`);
  return c;
}

class LxmertEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly token_type_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;
  constructor(readonly c: LxmertConfig) {
    super();
    // padding_idx 0 on all three tables, as the reference (row 0 starts at zero and gets no gradient)
    this.word_embeddings = this.child('word_embeddings', new Embedding(c.vocab_size, c.hidden_size, { paddingIdx: 0 }));
    this.position_embeddings = this.child(
      'position_embeddings',
      new Embedding(c.max_position_embeddings, c.hidden_size, { paddingIdx: 0 }),
    );
    this.token_type_embeddings = this.child(
      'token_type_embeddings',
      new Embedding(c.type_vocab_size, c.hidden_size, { paddingIdx: 0 }),
    );
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(c.hidden_size, LXMERT_LN_EPS));
  }
  forward(inputIds: Tensor, tokenTypeIds: Tensor): Tensor {
    const [b, l] = inputIds.shape as [number, number];
    if (l > this.c.max_position_embeddings)
      throw new Error(
        `LxmertModel: input_ids has ${l} tokens, more than max_position_embeddings (${this.c.max_position_embeddings})`,
      );
    const positions = arange(0, l, 1, { dtype: 'int64', device: inputIds.device }).view(1, l).expand(b, l);
    const sum = this.word_embeddings
      .forward(inputIds)
      .add(this.position_embeddings.forward(positions))
      .add(this.token_type_embeddings.forward(tokenTypeIds));
    return F.dropout(this.LayerNorm.forward(sum), this.c.hidden_dropout_prob, this.training);
  }
}

/** Multi-head attention of `x` over `context` (the same tensor for self-attention). */
class LxmertAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  constructor(readonly c: LxmertConfig) {
    super();
    this.query = this.child('query', new Linear(c.hidden_size, c.hidden_size));
    this.key = this.child('key', new Linear(c.hidden_size, c.hidden_size));
    this.value = this.child('value', new Linear(c.hidden_size, c.hidden_size));
  }
  forward(x: Tensor, context: Tensor, mask: Tensor | null): Tensor {
    const h = this.c.num_attention_heads;
    const q = splitHeads(this.query.forward(x), h);
    const k = splitHeads(this.key.forward(context), h);
    const v = splitHeads(this.value.forward(context), h);
    return mergeHeads(
      F.attention(q, k, v, { mask, dropout: this.c.attention_probs_dropout_prob, training: this.training }),
    );
  }
}

/** dense -> dropout -> LayerNorm(+ residual): BERT's post-LN output block. */
class LxmertResidualOutput extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  constructor(
    readonly c: LxmertConfig,
    inFeatures: number,
  ) {
    super();
    this.dense = this.child('dense', new Linear(inFeatures, c.hidden_size));
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(c.hidden_size, LXMERT_LN_EPS));
  }
  forward(x: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(
      F.dropout(this.dense.forward(x), this.c.hidden_dropout_prob, this.training).add(residual),
    );
  }
}

/** Attention plus its output block; `att` / `self` is the checkpoint's name for the attention. */
class LxmertAttentionBlock extends Module {
  readonly attn: LxmertAttention;
  readonly output: LxmertResidualOutput;
  constructor(c: LxmertConfig, attentionName: 'self' | 'att') {
    super();
    this.attn = this.child(attentionName, new LxmertAttention(c));
    this.output = this.child('output', new LxmertResidualOutput(c, c.hidden_size));
  }
  forward(x: Tensor, context: Tensor, mask: Tensor | null): Tensor {
    return this.output.forward(this.attn.forward(x, context, mask), x);
  }
}

class LxmertIntermediate extends Module {
  readonly dense: Linear;
  constructor(readonly c: LxmertConfig) {
    super();
    this.dense = this.child('dense', new Linear(c.hidden_size, c.intermediate_size));
  }
  forward(x: Tensor): Tensor {
    return F.activation(this.dense.forward(x), engineActivation(this.c.hidden_act));
  }
}

/** Post-LN transformer layer (language and relational encoders). */
class LxmertLayer extends Module {
  readonly attention: LxmertAttentionBlock;
  readonly intermediate: LxmertIntermediate;
  readonly output: LxmertResidualOutput;
  constructor(c: LxmertConfig) {
    super();
    this.attention = this.child('attention', new LxmertAttentionBlock(c, 'self'));
    this.intermediate = this.child('intermediate', new LxmertIntermediate(c));
    this.output = this.child('output', new LxmertResidualOutput(c, c.intermediate_size));
  }
  forward(x: Tensor, mask: Tensor | null): Tensor {
    const a = this.attention.forward(x, x, mask);
    return this.output.forward(this.intermediate.forward(a), a);
  }
}

/** Cross-modality layer: shared cross-attention both ways, then self-attention and FFN per stream. */
class LxmertXLayer extends Module {
  readonly visual_attention: LxmertAttentionBlock;
  readonly lang_self_att: LxmertAttentionBlock;
  readonly visn_self_att: LxmertAttentionBlock;
  readonly lang_inter: LxmertIntermediate;
  readonly lang_output: LxmertResidualOutput;
  readonly visn_inter: LxmertIntermediate;
  readonly visn_output: LxmertResidualOutput;
  constructor(c: LxmertConfig) {
    super();
    this.visual_attention = this.child('visual_attention', new LxmertAttentionBlock(c, 'att'));
    this.lang_self_att = this.child('lang_self_att', new LxmertAttentionBlock(c, 'self'));
    this.visn_self_att = this.child('visn_self_att', new LxmertAttentionBlock(c, 'self'));
    this.lang_inter = this.child('lang_inter', new LxmertIntermediate(c));
    this.lang_output = this.child('lang_output', new LxmertResidualOutput(c, c.intermediate_size));
    this.visn_inter = this.child('visn_inter', new LxmertIntermediate(c));
    this.visn_output = this.child('visn_output', new LxmertResidualOutput(c, c.intermediate_size));
  }
  forward(lang: Tensor, langMask: Tensor | null, visn: Tensor, visnMask: Tensor | null): [Tensor, Tensor] {
    const langX = this.visual_attention.forward(lang, visn, visnMask);
    const visnX = this.visual_attention.forward(visn, lang, langMask);
    const langS = this.lang_self_att.forward(langX, langX, langMask);
    const visnS = this.visn_self_att.forward(visnX, visnX, visnMask);
    return [
      this.lang_output.forward(this.lang_inter.forward(langS), langS),
      this.visn_output.forward(this.visn_inter.forward(visnS), visnS),
    ];
  }
}

/** Region features and boxes to the hidden size: (LN(fc(feats)) + LN(fc(boxes))) / 2. */
class LxmertVisualFeatureEncoder extends Module {
  readonly visn_fc: Linear;
  readonly visn_layer_norm: LayerNorm;
  readonly box_fc: Linear;
  readonly box_layer_norm: LayerNorm;
  constructor(readonly c: LxmertConfig) {
    super();
    this.visn_fc = this.child('visn_fc', new Linear(c.visual_feat_dim, c.hidden_size));
    this.visn_layer_norm = this.child('visn_layer_norm', new LayerNorm(c.hidden_size, LXMERT_LN_EPS));
    this.box_fc = this.child('box_fc', new Linear(c.visual_pos_dim, c.hidden_size));
    this.box_layer_norm = this.child('box_layer_norm', new LayerNorm(c.hidden_size, LXMERT_LN_EPS));
  }
  forward(feats: Tensor, pos: Tensor): Tensor {
    const x = this.visn_layer_norm.forward(this.visn_fc.forward(feats));
    const y = this.box_layer_norm.forward(this.box_fc.forward(pos));
    return F.dropout(x.add(y).div(2), this.c.hidden_dropout_prob, this.training);
  }
}

class LxmertEncoder extends Module {
  readonly visn_fc: LxmertVisualFeatureEncoder;
  readonly layer: ModuleList<LxmertLayer>;
  readonly x_layers: ModuleList<LxmertXLayer>;
  readonly r_layers: ModuleList<LxmertLayer>;
  constructor(c: LxmertConfig) {
    super();
    this.visn_fc = this.child('visn_fc', new LxmertVisualFeatureEncoder(c));
    // `layer` (not l_layers) so BERT weights load, as the reference
    this.layer = this.child('layer', new ModuleList(Array.from({ length: c.l_layers }, () => new LxmertLayer(c))));
    this.x_layers = this.child(
      'x_layers',
      new ModuleList(Array.from({ length: c.x_layers }, () => new LxmertXLayer(c))),
    );
    this.r_layers = this.child(
      'r_layers',
      new ModuleList(Array.from({ length: c.r_layers }, () => new LxmertLayer(c))),
    );
  }
}

export interface LxmertInputs {
  input_ids: Tensor;
  /** [B, R, visual_feat_dim] */
  visual_feats: Tensor;
  /** [B, R, visual_pos_dim]: boxes (x1, y1, x2, y2) normalised to [0, 1]. */
  visual_pos: Tensor;
  attention_mask?: Tensor;
  visual_attention_mask?: Tensor;
  token_type_ids?: Tensor;
  output_hidden_states?: boolean;
}

export interface LxmertOutputs {
  /** [B, T, H] after the last cross-modality layer. */
  language_output: Tensor;
  /** [B, R, H] after the last cross-modality layer. */
  vision_output: Tensor;
  /** tanh(dense(language_output[:, 0])) [B, H]. */
  pooled_output: Tensor;
  /** As the reference: the output of each language layer, then of each cross-modality layer. */
  language_hidden_states?: Tensor[];
  /** The output of each relational layer, then of each cross-modality layer. */
  vision_hidden_states?: Tensor[];
}

export class LxmertModel extends Module {
  readonly embeddings: LxmertEmbeddings;
  readonly encoder: LxmertEncoder;
  readonly pooler: FirstTokenPooler;
  constructor(readonly config: LxmertConfig) {
    super();
    this.embeddings = this.child('embeddings', new LxmertEmbeddings(config));
    this.encoder = this.child('encoder', new LxmertEncoder(config));
    this.pooler = this.child('pooler', new FirstTokenPooler(config.hidden_size));
    initHfWeights(this, config.initializer_range);
  }

  forward(inputs: LxmertInputs): LxmertOutputs {
    const c = this.config;
    const [B, T] = inputs.input_ids.shape as [number, number];
    const feats = inputs.visual_feats;
    const pos = inputs.visual_pos;
    if (feats.ndim !== 3 || feats.size(0) !== B || feats.size(2) !== c.visual_feat_dim)
      throw new Error(
        `LxmertModel: visual_feats must be [${B}, regions, ${c.visual_feat_dim}] (visual_feat_dim), got [${feats.shape}]`,
      );
    if (pos.ndim !== 3 || pos.size(0) !== B || pos.size(1) !== feats.size(1) || pos.size(2) !== c.visual_pos_dim)
      throw new Error(
        `LxmertModel: visual_pos must be [${B}, ${feats.size(1)}, ${c.visual_pos_dim}] (visual_pos_dim), got [${pos.shape}]`,
      );
    const int = { dtype: 'int64', device: inputs.input_ids.device } as const;
    const langMask = extendedAttentionMask(inputs.attention_mask ?? ones([B, T], int));
    const visnMask = inputs.visual_attention_mask ? extendedAttentionMask(inputs.visual_attention_mask) : null;
    const keep = inputs.output_hidden_states ?? false;
    const langStates: Tensor[] = [];
    const visnStates: Tensor[] = [];

    let lang = this.embeddings.forward(inputs.input_ids, inputs.token_type_ids ?? zeros([B, T], int));
    let visn = this.encoder.visn_fc.forward(feats, pos);
    // Each layer in its own scope: its temporaries go as soon as it returns (autograd keeps what it needs).
    for (const l of this.encoder.layer) {
      const x = lang;
      langStates.push((lang = tidy(() => l.forward(x, langMask))));
    }
    for (const l of this.encoder.r_layers) {
      const x = visn;
      visnStates.push((visn = tidy(() => l.forward(x, visnMask))));
    }
    for (const l of this.encoder.x_layers) {
      const [a, b] = [lang, visn];
      [lang, visn] = tidy(() => l.forward(a, langMask, b, visnMask));
      langStates.push(lang);
      visnStates.push(visn);
    }
    return {
      language_output: lang,
      vision_output: visn,
      pooled_output: this.pooler.forward(lang),
      ...(keep ? { language_hidden_states: langStates, vision_hidden_states: visnStates } : {}),
    };
  }
}

/** Hugging Face's _init_weights: N(0, range) Linear and Embedding weights (padding row zero), zero biases, LayerNorm 1/0. */

/** Checkpoint name -> LxmertModel name: the task classes' `lxmert.` prefix goes, their heads are skipped. */
export function lxmertCheckpointName(name: string): string | null {
  if (name.startsWith('lxmert.')) return name.slice('lxmert.'.length);
  if (/^(embeddings|encoder|pooler)\./.test(name)) return name;
  return null;
}

const VISUAL_PROJECTION = ['encoder.visn_fc.visn_fc.weight', 'encoder.visn_fc.visn_fc.bias'];

/**
 * Loads a checkpoint strictly. `newVisualProjection` keeps the model's own (freshly initialised) projection of
 * the region features instead of the checkpoint's, for features of another width than the detector's.
 */
export function loadLxmertCheckpoint(
  model: LxmertModel,
  source: TensorSource,
  opts: { newVisualProjection?: boolean } = {},
): void {
  const fresh = opts.newVisualProjection ?? false;
  loadCheckpointInto(model, source, {
    rename: (n) => {
      const target = lxmertCheckpointName(n);
      return fresh && target !== null && VISUAL_PROJECTION.includes(target) ? null : target;
    },
    optional: (n) => fresh && VISUAL_PROJECTION.includes(n),
  });
}

/**
 * Region features from a vision encoder's patch states, for LXMERT when no detector output is at hand.
 * `states` [B, skip + rows*cols, D] (for example a ViT's last_hidden_state, skip = 1 for its [CLS] token);
 * the patch grid is rows x cols in raster order. With `regions` [r, c] the grid is average-pooled to r x c
 * regions (adaptive pooling, as torch's adaptive_avg_pool2d). Returns visual_feats [B, R, D] and visual_pos
 * [B, R, 4]: each region's box (x1, y1, x2, y2) as fractions of the image width and height (the patches it
 * covers), the normalised boxes LXMERT was trained with.
 */
export function patchRegions(
  states: Tensor,
  grid: [rows: number, cols: number],
  opts: { skip?: number; regions?: [rows: number, cols: number] } = {},
): { visual_feats: Tensor; visual_pos: Tensor } {
  const [rows, cols] = grid;
  const skip = opts.skip ?? 0;
  const [B, N, D] = states.shape as [number, number, number];
  if (N !== skip + rows * cols)
    throw new Error(
      `patchRegions: states have ${N} tokens, expected ${skip} + ${rows}x${cols} = ${skip + rows * cols}`,
    );
  const [R, C] = opts.regions ?? [rows, cols];
  if (R < 1 || C < 1 || R > rows || C > cols)
    throw new Error(`patchRegions: regions ${R}x${C} must be between 1x1 and the grid ${rows}x${cols}`);
  const patches = states.slice(1, skip);
  let feats: Tensor;
  if (R === rows && C === cols) feats = patches.contiguous();
  else {
    const map = patches.transpose(1, 2).reshape(B, D, rows, cols);
    feats = F.adaptiveAvgPool2d(map, [R, C]).flatten(2).transpose(1, 2).contiguous();
  }
  // adaptive pooling bin i covers [floor(i*n/k), ceil((i+1)*n/k)) patches
  const boxes: number[] = [];
  for (let i = 0; i < R; i++)
    for (let j = 0; j < C; j++) {
      const y1 = Math.floor((i * rows) / R) / rows;
      const y2 = Math.ceil(((i + 1) * rows) / R) / rows;
      const x1 = Math.floor((j * cols) / C) / cols;
      const x2 = Math.ceil(((j + 1) * cols) / C) / cols;
      boxes.push(x1, y1, x2, y2);
    }
  const one = tensor(Float32Array.from(boxes), {
    shape: [1, R * C, 4],
    dtype: states.dtype,
    device: states.device,
  });
  const visual_pos =
    B === 1
      ? one
      : cat(
          Array.from({ length: B }, () => one),
          0,
        );
  return { visual_feats: feats, visual_pos };
}

function requireInput(inputs: Map<string, Tensor>, name: string): Tensor {
  const t = inputs.get(name);
  if (!t) throw new Error(`LxmertModel: input "${name}" is missing (got: ${[...inputs.keys()].join(', ') || 'none'})`);
  return t;
}

export const family: ModelFamily<LxmertModel> = {
  name: 'lxmert',
  modelTypes: ['lxmert'],
  build(config, opts = {}) {
    return new LxmertModel(readLxmertConfig(config, opts.where));
  },
  load(model, source) {
    loadLxmertCheckpoint(model, source);
  },
  forwardNamed(model, inputs) {
    model.eval();
    const out = noGrad(() =>
      model.forward({
        input_ids: requireInput(inputs, 'input_ids'),
        visual_feats: requireInput(inputs, 'visual_feats'),
        visual_pos: requireInput(inputs, 'visual_pos'),
        attention_mask: inputs.get('attention_mask'),
        visual_attention_mask: inputs.get('visual_attention_mask'),
        token_type_ids: inputs.get('token_type_ids'),
      }),
    );
    return new Map([
      ['language_output', out.language_output],
      ['vision_output', out.vision_output],
      ['pooled_output', out.pooled_output],
    ]);
  },
};
