// Option declarations that several recipes share (the same key, type and help wherever they apply).
import { FUSIONS, REPRESENTATIONS } from '../fusion.js';
import type { RecipeOption } from '../recipe.js';

export const FUSION_OPTION: RecipeOption = {
  key: 'fusion',
  type: 'enum',
  choices: FUSIONS,
  default: 'concat',
  help: 'how the text and image vectors are fused',
  cli: { flag: 'fusion' },
};

export const FUSION_DIM_OPTION: RecipeOption = {
  key: 'fusionDim',
  type: 'int',
  min: 1,
  help: 'width of the attention / GMU fusion output (default: the text width)',
};

export const FREEZE_IMAGE_OPTION: RecipeOption = {
  key: 'freezeImage',
  type: 'boolean',
  default: true,
  help: "train the image encoder too (default: frozen, the paper's setting)",
  cli: { flag: 'train-image-encoder', negate: true },
};

export const REPRESENTATION_OPTION: RecipeOption = {
  key: 'representation',
  type: 'enum',
  choices: REPRESENTATIONS,
  default: 'first-token',
  help: "what the heads read: the first-token state of the last layer (the paper's) or the pooled output",
  cli: { flag: 'representation' },
};
