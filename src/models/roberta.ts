/**
 * RoBERTa (model_type "roberta", and "bertweet" for BERTweet configs) as Hugging Face transformers computes
 * it: BERT's encoder (bert.ts) with RoBERTa's position ids (padding tokens get pad_token_id, the other tokens
 * count up from pad_token_id + 1, so position rows 0..pad_token_id are never used by real tokens), a padding
 * row in the position table, and RobertaForSequenceClassification's head (dense + tanh + out_proj on the
 * `<s>` token, no pooler). RobertaModel has the tanh pooler; checkpoints of RobertaForMaskedLM (roberta-base,
 * vinai/bertweet-base) build a RobertaModel without a pooler, as they have none, and their `lm_head` is
 * skipped. XLM-RoBERTa (xlm-roberta.ts) is this same model under other names.
 * NOT supported (rejected naming the field): what bert.ts rejects (relative position embeddings, decoders,
 * cross-attention), and heads other than sequence classification (RobertaForCausalLM, token/QA heads).
 */
import { F, type Tensor } from '../tensor/index.js';
import { Dropout, Linear, Module } from '../nn/index.js';
import { inEvalMode, loadCheckpointInto, type Config } from './common.js';
import type { ModelFamily } from './family.js';
import {
  architectureOf,
  BertModel,
  bertStyleTextTower,
  checkpointRenamer,
  encoderInputs,
  initBertWeights,
  namedEncoderOutputs,
  readBertConfig,
  sequenceClassificationLoss,
  type BertConfig,
  type EncoderInputs,
  type SequenceClassifierOutput,
} from './bert.js';

/** RobertaModel: BertModel with padding-offset position ids (parameter names are the same). */
export class RobertaModel extends BertModel {
  constructor(config: BertConfig, opts: { addPoolingLayer?: boolean } = {}) {
    super(config, { ...opts, positions: 'padding-offset' });
  }
}

/** RobertaClassificationHead: dropout, dense, tanh, dropout, out_proj on the first token's state. */
export class RobertaClassificationHead extends Module {
  readonly dense: Linear;
  readonly dropout: Dropout;
  readonly out_proj: Linear;
  constructor(config: BertConfig) {
    super();
    this.dense = this.child('dense', new Linear(config.hidden_size, config.hidden_size));
    this.dropout = this.child('dropout', new Dropout(config.classifier_dropout ?? config.hidden_dropout_prob));
    this.out_proj = this.child('out_proj', new Linear(config.hidden_size, config.num_labels));
  }
  forward(hidden: Tensor): Tensor {
    const x = F.tanh(this.dense.forward(this.dropout.forward(hidden.select(1, 0))));
    return this.out_proj.forward(this.dropout.forward(x));
  }
}

export class RobertaForSequenceClassification extends Module {
  readonly roberta: RobertaModel;
  readonly classifier: RobertaClassificationHead;
  constructor(readonly config: BertConfig) {
    super();
    this.roberta = this.child('roberta', new RobertaModel(config, { addPoolingLayer: false }));
    this.classifier = this.child('classifier', new RobertaClassificationHead(config));
  }
  forward(inputs: EncoderInputs & { labels?: Tensor | null }): SequenceClassifierOutput {
    const { labels, ...rest } = inputs;
    const out = this.roberta.forward(rest);
    const logits = this.classifier.forward(out.last_hidden_state);
    const loss = labels
      ? sequenceClassificationLoss(logits, labels, this.config.num_labels, this.config.problem_type)
      : null;
    return { ...out, logits, loss };
  }
}

export type RobertaFamilyModel = RobertaModel | RobertaForSequenceClassification;

type Head = 'base' | 'base-no-pooler' | 'sequence-classification';

/**
 * A RoBERTa-style family under the given names (RoBERTa itself, XLM-RoBERTa): `prefix` is the class-name
 * prefix in `architectures` ("Roberta", "XLMRoberta").
 */
export function robertaStyleFamily(
  name: string,
  modelTypes: readonly string[],
  prefix: string,
  classes: { Model: typeof RobertaModel; ForSequenceClassification: typeof RobertaForSequenceClassification } = {
    Model: RobertaModel,
    ForSequenceClassification: RobertaForSequenceClassification,
  },
): ModelFamily<RobertaFamilyModel> {
  const architectures: Record<string, Head> = {
    [`${prefix}Model`]: 'base',
    [`${prefix}ForMaskedLM`]: 'base-no-pooler',
    [`${prefix}ForSequenceClassification`]: 'sequence-classification',
  };
  return {
    name,
    modelTypes,
    build(config: Config, opts = {}) {
      const where = opts.where ?? 'config.json';
      const mt = config.model_type ?? modelTypes[0];
      if (typeof mt !== 'string' || !modelTypes.includes(mt))
        throw new Error(
          `${where}: "model_type": ${JSON.stringify(mt)} is not a ${name} model (supported: ${modelTypes.join(', ')})`,
        );
      // transformers' RobertaConfig / XLMRobertaConfig default pad_token_id is 1.
      const c = readBertConfig(config, where, { pad_token_id: 1 });
      const head = architectureOf(config, where, architectures, 'base');
      const model =
        head === 'sequence-classification'
          ? new classes.ForSequenceClassification(c)
          : new classes.Model(c, { addPoolingLayer: head === 'base' });
      initBertWeights(model, c.initializer_range);
      return model;
    },
    load(model, source) {
      loadCheckpointInto(model, source, { rename: checkpointRenamer(model, source, 'roberta') });
    },
    forwardNamed(model, inputs) {
      const x = encoderInputs(inputs);
      return inEvalMode(model, () => {
        if (model instanceof RobertaForSequenceClassification) return namedEncoderOutputs(model.forward(x));
        const { labels, ...rest } = x;
        if (labels)
          throw new Error(
            `inputs: labels given, but ${prefix}Model has no head to compute a loss (use ${prefix}ForSequenceClassification)`,
          );
        return namedEncoderOutputs(model.forward(rest));
      });
    },
  };
}

export const family = robertaStyleFamily('roberta', ['roberta', 'bertweet'], 'Roberta');

/** RoBERTa / BERTweet as a recipe's text tower (transformers' RobertaConfig default pad_token_id is 1). */
export const textTower = bertStyleTextTower(['roberta', 'bertweet'], (c) => new RobertaModel(c), {
  defaults: { pad_token_id: 1 },
  checkpointPrefix: 'roberta',
});
