// What several recipes share: option declarations (the same key, type and help wherever they apply) and the
// configs and pretrained loading of the two-tower recipes (a text model folder and an image model folder).
import type { Config } from '../../models/common.js';
import { noGrad } from '../../tensor/index.js';
import { loadImageEncoder, loadTextEncoder, withWeights, type ImageEncoder, type TextEncoder } from '../encoders.js';
import { FUSIONS, REPRESENTATIONS } from '../fusion.js';
import { folderOf, type RecipeOption, type RecipeSpec } from '../recipe.js';

/** The Hugging Face configs of a two-tower recipe, from its text and image model folders. */
export function twoTowerConfigs(spec: RecipeSpec, read: (dir: string) => Config): Record<string, Config> {
  return { text_config: read(folderOf(spec, 'textModel')), vision_config: read(folderOf(spec, 'imageModel')) };
}

/** Loads the text and image checkpoints of a two-tower recipe's folders into its encoders. */
export function loadTwoTowers(m: { text_encoder: TextEncoder; image_encoder: ImageEncoder }, spec: RecipeSpec): void {
  noGrad(() => {
    withWeights(folderOf(spec, 'textModel'), (s) => loadTextEncoder(m.text_encoder, s));
    withWeights(folderOf(spec, 'imageModel'), (s) => loadImageEncoder(m.image_encoder, s));
  });
}

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
