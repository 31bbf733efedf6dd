// blip: BLIP's image-text matching model; the pair is its cross-attending text encoder's first token.
import { noGrad } from '../../tensor/index.js';
import { family } from '../../models/blip.js';
import { BlipClassifier } from '../blip.js';
import { withWeights } from '../encoders.js';
import { folderOf, subConfig, type Recipe } from '../recipe.js';

export const recipe: Recipe<BlipClassifier> = {
  name: 'blip',
  summary: 'BLIP image-text matching model (its ITM head and contrastive projections)',
  checkpoints: { model: 'required' },
  modelTypes: ['blip'],
  modalities: ['text', 'image'],
  options: [],
  configs: (spec, read) => ({ model_config: read(folderOf(spec, 'model')) }),
  build: ({ head, options, cfg, where }) =>
    new BlipClassifier({ ...head, ...options, model_config: subConfig(cfg, 'model_config', where) }),
  loadPretrained: (m, spec) => noGrad(() => withWeights(folderOf(spec, 'model'), (s) => family.load(m.blip, s))),
};
