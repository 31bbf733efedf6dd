// clip: CLIP's two towers, their projected embeddings fused; ITC is CLIP's own contrastive head.
import { noGrad } from '../../tensor/index.js';
import { CLIPModel, family } from '../../models/clip.js';
import { DualEncoderClassifier } from '../dual-encoder.js';
import { withWeights } from '../encoders.js';
import { folderOf, subConfig, type Recipe } from '../recipe.js';
import { FUSION_DIM_OPTION, FUSION_OPTION } from './shared-options.js';

export const recipe: Recipe<DualEncoderClassifier> = {
  name: 'clip',
  summary: 'CLIP dual encoder: projected text and image embeddings, fused',
  checkpoints: { model: 'required' },
  modelTypes: ['clip'],
  modalities: ['text', 'image'],
  options: [FUSION_OPTION, FUSION_DIM_OPTION],
  configs: (spec, read) => ({ model_config: read(folderOf(spec, 'model')) }),
  build: ({ head, options, cfg, where }) =>
    new DualEncoderClassifier('clip', { ...head, ...options, model_config: subConfig(cfg, 'model_config', where) }),
  loadPretrained: (m, spec) =>
    noGrad(() => {
      const model = m.model;
      if (!(model instanceof CLIPModel)) throw new Error('recipe "clip": the classifier does not hold a CLIP model');
      withWeights(folderOf(spec, 'model'), (s) => family.load(model, s));
    }),
};
