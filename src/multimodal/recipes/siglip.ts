// siglip: SigLIP's two towers, their embeddings fused; ITC is SigLIP's own head (logit scale and bias).
import { noGrad } from '../../tensor/index.js';
import { family, SiglipModel } from '../../models/siglip.js';
import { DualEncoderClassifier } from '../dual-encoder.js';
import { withWeights } from '../encoders.js';
import { folderOf, subConfig, type Recipe } from '../recipe.js';
import { FUSION_DIM_OPTION, FUSION_OPTION } from './shared-options.js';

export const recipe: Recipe<DualEncoderClassifier> = {
  name: 'siglip',
  summary: 'SigLIP dual encoder: text and image embeddings, fused',
  checkpoints: { model: 'required' },
  modelTypes: ['siglip'],
  modalities: ['text', 'image'],
  options: [FUSION_OPTION, FUSION_DIM_OPTION],
  configs: (spec, read) => ({ model_config: read(folderOf(spec, 'model')) }),
  build: ({ head, options, cfg, where }) =>
    new DualEncoderClassifier('siglip', { ...head, ...options, model_config: subConfig(cfg, 'model_config', where) }),
  loadPretrained: (m, spec) =>
    noGrad(() => {
      const model = m.model;
      if (!(model instanceof SiglipModel))
        throw new Error('recipe "siglip": the classifier does not hold a SigLIP model');
      withWeights(folderOf(spec, 'model'), (s) => family.load(model, s));
    }),
};
