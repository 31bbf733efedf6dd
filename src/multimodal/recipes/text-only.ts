// text-only: the paper's text baseline, a linear classifier on the text model's first-token state. It has one
// modality, so ITC and ITM do not apply (asking for them is an error).
import { noGrad } from '../../tensor/index.js';
import { loadTextEncoder, withWeights } from '../encoders.js';
import { folderOf, subConfig, type Recipe } from '../recipe.js';
import { TextOnlyClassifier } from '../unimodal.js';
import { REPRESENTATION_OPTION } from './shared-options.js';

export const recipe: Recipe<TextOnlyClassifier> = {
  name: 'text-only',
  summary: 'text baseline: a linear classifier on the text encoder (no ITC / ITM)',
  checkpoints: { textModel: 'required' },
  options: [REPRESENTATION_OPTION],
  modalities: ['text'],
  configs: (spec, read) => ({ text_config: read(folderOf(spec, 'textModel')) }),
  build: ({ head, options, cfg, where }) =>
    new TextOnlyClassifier({ ...head, ...options, text_config: subConfig(cfg, 'text_config', where) }),
  loadPretrained: (m, spec) =>
    noGrad(() => withWeights(folderOf(spec, 'textModel'), (s) => loadTextEncoder(m.text_encoder, s))),
};
