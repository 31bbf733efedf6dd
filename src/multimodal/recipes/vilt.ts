// vilt: one single-stream transformer over text tokens and image patches (dandelin/vilt-b32-mlm).
import { noGrad } from '../../tensor/index.js';
import { family } from '../../models/vilt.js';
import { withWeights } from '../encoders.js';
import { folderOf, subConfig, type Recipe } from '../recipe.js';
import { ViltClassifier } from '../vilt.js';
import { REPRESENTATION_OPTION } from './shared-options.js';

export const recipe: Recipe<ViltClassifier> = {
  name: 'vilt',
  summary: 'ViLT: a single-stream transformer over text tokens and image patches',
  checkpoints: { model: 'required' },
  modelTypes: ['vilt'],
  modalities: ['text', 'image'],
  options: [
    REPRESENTATION_OPTION,
    {
      key: 'itcProjection',
      type: 'boolean',
      default: false,
      help: "new linear projections on the ITC states (the paper's code compares the states themselves)",
    },
  ],
  configs: (spec, read) => ({ model_config: read(folderOf(spec, 'model')) }),
  build: ({ head, options, cfg, where }) =>
    new ViltClassifier({ ...head, ...options, model_config: subConfig(cfg, 'model_config', where) }),
  loadPretrained: (m, spec) => noGrad(() => withWeights(folderOf(spec, 'model'), (s) => family.load(m.vilt, s))),
};
