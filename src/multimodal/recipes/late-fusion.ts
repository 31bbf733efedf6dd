// late-fusion: a text encoder and an image encoder run separately, their vectors fused (the paper's main family).
import { LateFusionClassifier } from '../late-fusion.js';
import { subConfig, type Recipe } from '../recipe.js';
import {
  FREEZE_IMAGE_OPTION,
  FUSION_DIM_OPTION,
  FUSION_OPTION,
  loadTwoTowers,
  REPRESENTATION_OPTION,
  twoTowerConfigs,
} from './shared-options.js';

export const recipe: Recipe<LateFusionClassifier> = {
  name: 'late-fusion',
  summary: 'text encoder (BERT, RoBERTa, BERTweet, XLM-R) + image encoder (ViT, DeiT, CLIP/SigLIP vision), fused',
  checkpoints: { textModel: 'required', imageModel: 'required' },
  modalities: ['text', 'image'],
  options: [FUSION_OPTION, FUSION_DIM_OPTION, REPRESENTATION_OPTION, FREEZE_IMAGE_OPTION],
  configs: twoTowerConfigs,
  frozenImageEncoder: (cfg) => cfg.freezeImage !== false,
  build: ({ head, options, cfg, where }) =>
    new LateFusionClassifier({
      ...head,
      ...options,
      text_config: subConfig(cfg, 'text_config', where),
      vision_config: subConfig(cfg, 'vision_config', where),
    }),
  loadPretrained: loadTwoTowers,
};
