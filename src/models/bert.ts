/**
 * BERT, as Hugging Face transformers computes it: BertModel (embeddings, post-LayerNorm encoder, tanh
 * pooler on the first token) and BertForSequenceClassification (dropout + linear on the pooled output;
 * loss by problem_type: regression = MSE, single_label_classification = mean cross-entropy,
 * multi_label_classification = BCE with logits). Parameter names are the checkpoints' own
 * (`bert.encoder.layer.0.attention.self.query.weight`, ...). Checkpoints of pre-training classes
 * (BertForMaskedLM, BertForPreTraining, ...) load into BertModel with their heads skipped; old `gamma`/`beta`
 * LayerNorm names are accepted. The building blocks here are shared by RoBERTa and XLM-RoBERTa
 * (roberta.ts), which differ only in position ids and the classification head.
 * NOT supported (rejected naming the config field): `position_embedding_type` other than "absolute"
 * (relative_key, relative_key_query), decoders and cross-attention (`is_decoder`, `add_cross_attention`),
 * key/value caches, head masks, and heads other than sequence classification.
 */
import { arange, F, full, noGrad, tidy, zeros, type Tensor } from '../tensor/index.js';
import { Dropout, Embedding, LayerNorm, Linear, Module, ModuleList } from '../nn/index.js';
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
  inEvalMode,
  FirstTokenPooler,
} from './common.js';
import type { ModelFamily } from './family.js';
import type { TextTower } from './towers.js';

export type ProblemType = 'regression' | 'single_label_classification' | 'multi_label_classification';

/** The config.json fields that change what a BERT-style encoder computes (Hugging Face names). */
export interface BertConfig {
  model_type: string;
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
  initializer_range: number;
  layer_norm_eps: number;
  pad_token_id: number;
  position_embedding_type: 'absolute';
  /** Dropout before the classifier; null means hidden_dropout_prob (as transformers). */
  classifier_dropout: number | null;
  num_labels: number;
  /** null: decided from the labels at loss time, as transformers does. */
  problem_type: ProblemType | null;
}

/** Architectures (config.json `architectures`) and the head each one builds. */
export const BERT_ARCHITECTURES: Record<string, 'base' | 'sequence-classification'> = {
  BertModel: 'base',
  BertForMaskedLM: 'base',
  BertForPreTraining: 'base',
  BertLMHeadModel: 'base',
  BertForNextSentencePrediction: 'base',
  BertForSequenceClassification: 'sequence-classification',
};

/** Reads a BERT-style config; `defaults` lets RoBERTa-style families set their own pad_token_id. */
export function readBertConfig(
  config: Config,
  where = 'config.json',
  defaults: { pad_token_id?: number } = {},
): BertConfig {
  const r = new ConfigReader(config, where);
  const hidden = r.int('hidden_size', 768);
  const heads = r.int('num_attention_heads', 12);
  if (hidden % heads !== 0)
    throw new Error(`${where}: field "hidden_size" (${hidden}) must be a multiple of "num_attention_heads" (${heads})`);
  if (r.bool('is_decoder', false)) throw new Error(`${where}: "is_decoder": true is not supported (encoders only)`);
  if (r.bool('add_cross_attention', false))
    throw new Error(`${where}: "add_cross_attention": true is not supported (encoders only)`);
  const id2label = config.id2label;
  const numLabels = r.has('num_labels')
    ? r.int('num_labels')
    : id2label && typeof id2label === 'object'
      ? Object.keys(id2label).length
      : 2;
  const classifierDropout = r.has('classifier_dropout') ? r.num('classifier_dropout') : null;
  const problemType = r.has('problem_type')
    ? r.oneOf<ProblemType>('problem_type', ['regression', 'single_label_classification', 'multi_label_classification'])
    : null;
  return {
    model_type: r.str('model_type', 'bert'),
    vocab_size: r.int('vocab_size', 30522),
    hidden_size: hidden,
    num_hidden_layers: r.int('num_hidden_layers', 12),
    num_attention_heads: heads,
    intermediate_size: r.int('intermediate_size', 3072),
    hidden_act: r.oneOf('hidden_act', HIDDEN_ACTS, 'gelu'),
    hidden_dropout_prob: r.num('hidden_dropout_prob', 0.1),
    attention_probs_dropout_prob: r.num('attention_probs_dropout_prob', 0.1),
    max_position_embeddings: r.int('max_position_embeddings', 512),
    type_vocab_size: r.int('type_vocab_size', 2),
    initializer_range: r.num('initializer_range', 0.02),
    layer_norm_eps: r.num('layer_norm_eps', 1e-12),
    pad_token_id: r.int('pad_token_id', defaults.pad_token_id ?? 0),
    position_embedding_type: r.oneOf('position_embedding_type', ['absolute'] as const, 'absolute'),
    classifier_dropout: classifierDropout,
    num_labels: numLabels,
    problem_type: problemType,
  };
}

/** Picks the head from config.json `architectures` (first entry); none given means the base model. */
export function architectureOf<H extends string>(config: Config, where: string, known: Record<string, H>, dflt: H): H {
  const archs = config.architectures;
  if (archs === undefined || archs === null) return dflt;
  if (!Array.isArray(archs) || archs.length === 0 || typeof archs[0] !== 'string')
    throw new Error(`${where}: field "architectures" must be a non-empty list of class names`);
  const head = known[archs[0]];
  if (head === undefined)
    throw new Error(
      `${where}: "architectures": "${archs[0]}" is not supported (supported: ${Object.keys(known).join(', ')})`,
    );
  return head;
}

/** How position ids are made when the caller gives none. */
export type PositionIds = 'absolute' | 'padding-offset';

export interface EncoderInputs {
  input_ids: Tensor;
  attention_mask?: Tensor | null;
  token_type_ids?: Tensor | null;
  position_ids?: Tensor | null;
}

export interface EncoderOutput {
  last_hidden_state: Tensor;
  /** null when the model was built without a pooler. */
  pooler_output: Tensor | null;
  /** The embeddings output, then each layer's output (num_hidden_layers + 1 tensors). */
  hidden_states: Tensor[];
}

/**
 * RoBERTa's position ids: padding tokens get pad_token_id, the others count up from pad_token_id + 1
 * (transformers' create_position_ids_from_input_ids).
 */
export function paddingOffsetPositionIds(inputIds: Tensor, padTokenId: number): Tensor {
  const notPad = inputIds.ne(padTokenId).to('int64');
  // The engine's tensor + number promotes int64 to float32, so the offset is added as an int64 tensor.
  const offset = full([1], padTokenId, { dtype: 'int64', device: inputIds.device });
  return notPad.cumsum(1).mul(notPad).add(offset);
}

export class BertEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly token_type_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;
  constructor(
    readonly config: BertConfig,
    readonly positions: PositionIds = 'absolute',
  ) {
    super();
    const c = config;
    this.word_embeddings = this.child(
      'word_embeddings',
      new Embedding(c.vocab_size, c.hidden_size, { paddingIdx: c.pad_token_id }),
    );
    // RoBERTa's position table has a padding row too (its gradient stays zero).
    const posPad = positions === 'padding-offset' ? { paddingIdx: c.pad_token_id } : {};
    this.position_embeddings = this.child(
      'position_embeddings',
      new Embedding(c.max_position_embeddings, c.hidden_size, posPad),
    );
    this.token_type_embeddings = this.child('token_type_embeddings', new Embedding(c.type_vocab_size, c.hidden_size));
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(c.hidden_size, c.layer_norm_eps));
    this.dropout = this.child('dropout', new Dropout(c.hidden_dropout_prob));
  }
  forward(inputIds: Tensor, tokenTypeIds?: Tensor | null, positionIds?: Tensor | null): Tensor {
    const [b, l] = inputIds.shape as [number, number];
    const limit = this.config.max_position_embeddings;
    let pos = positionIds ?? null;
    if (!pos) {
      if (this.positions === 'padding-offset') {
        if (l + this.config.pad_token_id >= limit)
          throw new Error(
            `input_ids: ${l} tokens need position ids up to ${l + this.config.pad_token_id}, but max_position_embeddings is ${limit}`,
          );
        pos = paddingOffsetPositionIds(inputIds, this.config.pad_token_id);
      } else {
        if (l > limit) throw new Error(`input_ids: ${l} tokens exceed max_position_embeddings (${limit})`);
        pos = arange(l, undefined, 1, { dtype: 'int64', device: inputIds.device }).view(1, l);
      }
    }
    const types = tokenTypeIds ?? zeros([b, l], { dtype: 'int64', device: inputIds.device });
    const sum = this.word_embeddings
      .forward(inputIds)
      .add(this.token_type_embeddings.forward(types))
      .add(this.position_embeddings.forward(pos));
    return this.dropout.forward(this.LayerNorm.forward(sum));
  }
}

export class BertSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  constructor(readonly config: BertConfig) {
    super();
    const h = config.hidden_size;
    this.query = this.child('query', new Linear(h, h));
    this.key = this.child('key', new Linear(h, h));
    this.value = this.child('value', new Linear(h, h));
  }
  /** mask: additive [B, 1, 1, L] (0 attend, large negative masked) or null. */
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

/** Dense + dropout + LayerNorm over the residual (BertSelfOutput and BertOutput share this shape). */
export class BertResidualOutput extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;
  constructor(config: BertConfig, inFeatures: number) {
    super();
    this.dense = this.child('dense', new Linear(inFeatures, config.hidden_size));
    this.LayerNorm = this.child('LayerNorm', new LayerNorm(config.hidden_size, config.layer_norm_eps));
    this.dropout = this.child('dropout', new Dropout(config.hidden_dropout_prob));
  }
  forward(x: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(this.dropout.forward(this.dense.forward(x)).add(residual));
  }
}

export class BertAttention extends Module {
  readonly self: BertSelfAttention;
  readonly output: BertResidualOutput;
  constructor(config: BertConfig) {
    super();
    this.self = this.child('self', new BertSelfAttention(config));
    this.output = this.child('output', new BertResidualOutput(config, config.hidden_size));
  }
  forward(x: Tensor, mask: Tensor | null): Tensor {
    return this.output.forward(this.self.forward(x, mask), x);
  }
}

export class BertIntermediate extends Module {
  readonly dense: Linear;
  constructor(config: BertConfig) {
    super();
    this.dense = this.child('dense', new Linear(config.hidden_size, config.intermediate_size));
  }
}

export class BertLayer extends Module {
  readonly attention: BertAttention;
  readonly intermediate: BertIntermediate;
  readonly output: BertResidualOutput;
  constructor(readonly config: BertConfig) {
    super();
    this.attention = this.child('attention', new BertAttention(config));
    this.intermediate = this.child('intermediate', new BertIntermediate(config));
    this.output = this.child('output', new BertResidualOutput(config, config.intermediate_size));
  }
  forward(x: Tensor, mask: Tensor | null): Tensor {
    const a = this.attention.forward(x, mask);
    // intermediate.dense -> hidden_act -> output.dense in one fused native call.
    const up = this.intermediate.dense;
    const down = this.output.dense;
    const ffn = F.mlp(a, up.weight, up.bias, down.weight, down.bias, engineActivation(this.config.hidden_act));
    const out = this.output;
    return out.LayerNorm.forward(out.dropout.forward(ffn).add(a));
  }
}

export class BertEncoder extends Module {
  readonly layer: ModuleList<BertLayer>;
  constructor(config: BertConfig) {
    super();
    this.layer = this.child(
      'layer',
      new ModuleList(Array.from({ length: config.num_hidden_layers }, () => new BertLayer(config))),
    );
  }
}

/** The encoder: BertModel, and with padding-offset positions RobertaModel / XLMRobertaModel. */
export class BertModel extends Module {
  readonly embeddings: BertEmbeddings;
  readonly encoder: BertEncoder;
  readonly pooler: FirstTokenPooler | null;
  constructor(
    readonly config: BertConfig,
    opts: { addPoolingLayer?: boolean; positions?: PositionIds } = {},
  ) {
    super();
    this.embeddings = this.child('embeddings', new BertEmbeddings(config, opts.positions ?? 'absolute'));
    this.encoder = this.child('encoder', new BertEncoder(config));
    this.pooler =
      opts.addPoolingLayer === false ? null : this.child('pooler', new FirstTokenPooler(config.hidden_size));
  }
  /** transformers' extended attention mask, in the weights' dtype (half types: made in float32, then cast). */
  additiveMask(attentionMask: Tensor): Tensor {
    const dtype = this.embeddings.word_embeddings.weight.dtype;
    const m = extendedAttentionMask(attentionMask, dtype === 'float64' ? 'float64' : 'float32');
    return dtype === 'float64' || dtype === 'float32' ? m : m.to(dtype);
  }
  forward(inputs: EncoderInputs): EncoderOutput {
    const ids = inputs.input_ids;
    if (ids.ndim !== 2) throw new Error(`input_ids: expected [batch, length], got [${ids.shape}]`);
    for (const [name, t] of Object.entries(inputs) as [string, Tensor | null | undefined][])
      if (t && name !== 'input_ids' && t.shape.join() !== ids.shape.join())
        throw new Error(`${name}: shape [${t.shape}] does not match input_ids [${ids.shape}]`);
    const mask = inputs.attention_mask ? this.additiveMask(inputs.attention_mask) : null;
    let h = this.embeddings.forward(ids, inputs.token_type_ids, inputs.position_ids);
    const hidden: Tensor[] = [h];
    for (const layer of this.encoder.layer) {
      // Each layer in its own scope: its intermediates go as soon as it returns (autograd keeps what
      // backward needs), so peak memory is that of one layer's temporaries, not all of them.
      const x = h;
      h = tidy(() => layer.forward(x, mask));
      hidden.push(h);
    }
    return { last_hidden_state: h, pooler_output: this.pooler ? this.pooler.forward(h) : null, hidden_states: hidden };
  }
}

/**
 * The loss transformers' *ForSequenceClassification heads use. problem_type null is decided as transformers
 * does: one label = regression, integer labels = single-label, else multi-label.
 */
export function sequenceClassificationLoss(
  logits: Tensor,
  labels: Tensor,
  numLabels: number,
  problemType: ProblemType | null,
): Tensor {
  const integer = labels.dtype === 'int64' || labels.dtype === 'int32';
  const kind: ProblemType =
    problemType ??
    (numLabels === 1 ? 'regression' : integer ? 'single_label_classification' : 'multi_label_classification');
  if (kind === 'regression') {
    const y = labels.to(logits.dtype);
    return numLabels === 1 ? F.mseLoss(logits.view(-1), y.view(-1)) : F.mseLoss(logits, y);
  }
  if (kind === 'single_label_classification')
    return F.crossEntropy(logits.view(-1, numLabels), labels.to('int64').view(-1));
  return F.binaryCrossEntropyWithLogits(logits, labels.to(logits.dtype));
}

export interface SequenceClassifierOutput extends EncoderOutput {
  logits: Tensor;
  /** Present when labels were given. */
  loss: Tensor | null;
}

export class BertForSequenceClassification extends Module {
  readonly bert: BertModel;
  readonly dropout: Dropout;
  readonly classifier: Linear;
  constructor(readonly config: BertConfig) {
    super();
    this.bert = this.child('bert', new BertModel(config));
    this.dropout = this.child('dropout', new Dropout(config.classifier_dropout ?? config.hidden_dropout_prob));
    this.classifier = this.child('classifier', new Linear(config.hidden_size, config.num_labels));
  }
  forward(inputs: EncoderInputs & { labels?: Tensor | null }): SequenceClassifierOutput {
    const { labels, ...rest } = inputs;
    const out = this.bert.forward(rest);
    const logits = this.classifier.forward(this.dropout.forward(out.pooler_output!));
    const loss = labels
      ? sequenceClassificationLoss(logits, labels, this.config.num_labels, this.config.problem_type)
      : null;
    return { ...out, logits, loss };
  }
}

/** Hugging Face's _init_weights for BERT-style models (see initHfWeights). */
export const initBertWeights: (model: Module, initializerRange: number) => void = initHfWeights;

/** Heads of pre-training checkpoints that an encoder or classifier does not use. */
const SKIPPED_HEADS = /^(cls|lm_head|qa_outputs)\.|(^|\.)position_ids$/;

/**
 * How checkpoint names map to a model's names: the base-model prefix (`bert.`, `roberta.`) is added or
 * removed as needed, old `gamma`/`beta` LayerNorm names become `weight`/`bias`, pre-training heads are
 * skipped (and `classifier.*` when the model has no classifier).
 */
export function checkpointRenamer(
  model: Module,
  source: TensorSource,
  basePrefix: string,
): (name: string) => string | null {
  const own = new Set(model.stateDict().keys());
  const modelPrefixed = [...own].some((n) => n.startsWith(`${basePrefix}.`));
  const ckptPrefixed = source.names().some((n) => n.startsWith(`${basePrefix}.`));
  return (name) => {
    if (SKIPPED_HEADS.test(name)) return null;
    let n = name.replace(/LayerNorm\.gamma$/, 'LayerNorm.weight').replace(/LayerNorm\.beta$/, 'LayerNorm.bias');
    if (ckptPrefixed && !modelPrefixed) {
      if (!n.startsWith(`${basePrefix}.`)) return own.has(n) ? n : /^classifier\./.test(n) ? null : n;
      n = n.slice(basePrefix.length + 1);
    } else if (!ckptPrefixed && modelPrefixed && !own.has(n)) n = `${basePrefix}.${n}`;
    return n;
  };
}

/**
 * Loads a checkpoint for fine-tuning: like family.load, but a classification head (and a pooler) missing
 * from the checkpoint keeps its fresh initialisation, as transformers' from_pretrained does. Returns the
 * names that were not in the checkpoint.
 */
export function loadPretrainedEncoder(model: Module, source: TensorSource, basePrefix: string): string[] {
  const rename = checkpointRenamer(model, source, basePrefix);
  const head = new RegExp(`^(classifier\\.|${basePrefix}\\.pooler\\.|pooler\\.)`);
  const found = new Set(source.names().map(rename));
  loadCheckpointInto(model, source, { rename, optional: (n) => head.test(n) });
  return [...model.stateDict().keys()].filter((n) => !found.has(n));
}

export type BertFamilyModel = BertModel | BertForSequenceClassification;

/** Named inputs accepted by forwardNamed of the BERT-style families. */
export const ENCODER_INPUT_NAMES = ['input_ids', 'attention_mask', 'token_type_ids', 'position_ids', 'labels'] as const;

/** Checks the named inputs (unknown names are refused, listing what is accepted) and makes ids int64. */
export function encoderInputs(inputs: Map<string, Tensor>): EncoderInputs & { labels?: Tensor } {
  const unknown = [...inputs.keys()].filter((k) => !(ENCODER_INPUT_NAMES as readonly string[]).includes(k));
  if (unknown.length)
    throw new Error(
      `inputs: ${unknown.join(', ')} not used by this model (accepted: ${ENCODER_INPUT_NAMES.join(', ')})`,
    );
  const ids = inputs.get('input_ids');
  if (!ids) throw new Error('inputs: input_ids is required');
  const asLong = (t: Tensor | undefined) => (t && t.dtype !== 'int64' ? t.to('int64') : t);
  return {
    input_ids: asLong(ids)!,
    attention_mask: inputs.get('attention_mask') ?? null,
    token_type_ids: asLong(inputs.get('token_type_ids')) ?? null,
    position_ids: asLong(inputs.get('position_ids')) ?? null,
    labels: inputs.get('labels'),
  };
}

/**
 * The outputs under transformers' names: last_hidden_state, pooler_output (when there is a pooler),
 * hidden_states.<i>, and for classifiers logits and (given labels) loss, shaped [1] as in the references.
 */
export function namedEncoderOutputs(
  out: EncoderOutput & { logits?: Tensor; loss?: Tensor | null },
): Map<string, Tensor> {
  const named = new Map<string, Tensor>();
  named.set('last_hidden_state', out.last_hidden_state);
  if (out.pooler_output) named.set('pooler_output', out.pooler_output);
  out.hidden_states.forEach((h, i) => named.set(`hidden_states.${i}`, h));
  if (out.logits) named.set('logits', out.logits);
  if (out.loss) named.set('loss', out.loss.view(1));
  return named;
}

export const family: ModelFamily<BertFamilyModel> = {
  name: 'bert',
  modelTypes: ['bert'],
  build(config, opts = {}) {
    const where = opts.where ?? 'config.json';
    const mt = config.model_type ?? 'bert';
    if (mt !== 'bert') throw new Error(`${where}: "model_type": "${String(mt)}" is not a BERT model (supported: bert)`);
    const c = readBertConfig(config, where);
    const head = architectureOf(config, where, BERT_ARCHITECTURES, 'base');
    const model = head === 'sequence-classification' ? new BertForSequenceClassification(c) : new BertModel(c);
    initBertWeights(model, c.initializer_range);
    return model;
  },
  load(model, source) {
    loadCheckpointInto(model, source, { rename: checkpointRenamer(model, source, 'bert') });
  },
  forwardNamed(model, inputs) {
    const x = encoderInputs(inputs);
    return inEvalMode(model, () => {
      if (model instanceof BertForSequenceClassification) return namedEncoderOutputs(model.forward(x));
      const { labels, ...rest } = x;
      if (labels)
        throw new Error(
          'inputs: labels given, but BertModel has no head to compute a loss (use BertForSequenceClassification)',
        );
      return namedEncoderOutputs(model.forward(rest));
    });
  },
};

/**
 * A BERT-style encoder (with its tanh pooler) as a recipe's text tower; RoBERTa and XLM-R make theirs with
 * their own model class, config defaults and checkpoint prefix.
 */
export function bertStyleTextTower<M extends BertModel>(
  modelTypes: readonly string[],
  make: (config: BertConfig) => M,
  opts: { defaults?: Config; checkpointPrefix: string },
): TextTower<M> {
  return {
    modelTypes,
    build(config, where) {
      const c = readBertConfig(config, where, opts.defaults ?? {});
      const model = make(c);
      initBertWeights(model, c.initializer_range);
      return model;
    },
    // heads skipped; a checkpoint without a pooler (masked-LM) leaves the fresh pooler weights
    load: (model, source) => noGrad(() => loadPretrainedEncoder(model, source, opts.checkpointPrefix)),
    hiddenSize: (model) => model.config.hidden_size,
    pooledWidth: (model) => model.config.hidden_size,
    forward(model, text) {
      const out = model.forward({
        input_ids: text.input_ids,
        attention_mask: text.attention_mask,
        token_type_ids: text.token_type_ids ?? null,
      });
      return { last_hidden_state: out.last_hidden_state, pooler_output: out.pooler_output! };
    },
  };
}

export const textTower: TextTower<BertModel> = bertStyleTextTower(['bert'], (c) => new BertModel(c), {
  checkpointPrefix: 'bert',
});
