// mmbt: the image encoder's pooled regions enter the text encoder as extra tokens (Kiela et al. 2019).
import { DEFAULT_IMAGE_TOKENS, MmbtClassifier } from '../mmbt.js';
import { subConfig, type Recipe } from '../recipe.js';
import { FREEZE_IMAGE_OPTION, loadTwoTowers, twoTowerConfigs } from './shared-options.js';

export const recipe: Recipe<MmbtClassifier> = {
  name: 'mmbt',
  summary: 'supervised multimodal bitransformer: image regions as tokens of the text encoder',
  checkpoints: { textModel: 'required', imageModel: 'required' },
  modalities: ['text', 'image'],
  options: [
    {
      key: 'imageTokens',
      type: 'int',
      min: 1,
      default: DEFAULT_IMAGE_TOKENS,
      help: 'number of image tokens',
    },
    FREEZE_IMAGE_OPTION,
  ],
  configs: twoTowerConfigs,
  frozenImageEncoder: (cfg) => cfg.freezeImage !== false,
  build: ({ head, options, cfg, where }) =>
    new MmbtClassifier({
      ...head,
      ...options,
      text_config: subConfig(cfg, 'text_config', where),
      vision_config: subConfig(cfg, 'vision_config', where),
    }),
  loadPretrained: loadTwoTowers,
};
