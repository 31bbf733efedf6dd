/**
 * XLM-RoBERTa (model_type "xlm-roberta"; Bernice and other XLM-R checkpoints) as Hugging Face transformers
 * computes it. transformers' XLMRoberta* classes are RoBERTa's under another name, with the same parameter
 * names (`roberta.` prefix in checkpoints of the task classes), so the modules are roberta.ts's:
 * XLMRobertaModel (with pooler), XLMRobertaForMaskedLM checkpoints loaded as an encoder without pooler (the
 * `lm_head` skipped), and XLMRobertaForSequenceClassification.
 * NOT supported: what roberta.ts rejects; XLM-RoBERTa-XL (model_type "xlm-roberta-xl", pre-LayerNorm) is a
 * different architecture and is refused by model_type.
 */
import { bertStyleTextTower } from './bert.js';
import { RobertaForSequenceClassification, RobertaModel, robertaStyleFamily } from './roberta.js';

export {
  RobertaClassificationHead as XLMRobertaClassificationHead,
  type RobertaFamilyModel as XLMRobertaFamilyModel,
} from './roberta.js';

/** XLMRobertaModel: RobertaModel under its own name (so errors name the right class). */
export class XLMRobertaModel extends RobertaModel {}
export class XLMRobertaForSequenceClassification extends RobertaForSequenceClassification {}

export const family = robertaStyleFamily('xlm-roberta', ['xlm-roberta'], 'XLMRoberta', {
  Model: XLMRobertaModel,
  ForSequenceClassification: XLMRobertaForSequenceClassification,
});

/** XLM-RoBERTa as a recipe's text tower. */
export const textTower = bertStyleTextTower(['xlm-roberta'], (c) => new XLMRobertaModel(c), {
  defaults: { pad_token_id: 1 },
  checkpointPrefix: 'roberta',
});
