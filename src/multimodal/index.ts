// The classifier recipes behind one interface (types.ts), the builder and run checkpoints.
export * from './types.js';
export { DEFAULT_DROPOUT, DEFAULT_ITC_DIM, LOGIT_SCALE_INIT, RecipeBase, type HeadOptions } from './base.js';
export {
  FUSIONS,
  PAPER_FUSIONS,
  REPRESENTATIONS,
  buildFusion,
  type Fusion,
  type FusionKind,
  type ModalityStates,
  type Representation,
} from './fusion.js';
export { LateFusionClassifier, type LateFusionOptions } from './late-fusion.js';
export { MmbtClassifier, DEFAULT_IMAGE_TOKENS, type MmbtOptions } from './mmbt.js';
export { ViltClassifier, type ViltOptions } from './vilt.js';
export { LxmertClassifier, LXMERT_ITC, type LxmertItc, type LxmertOptions } from './lxmert.js';
export { ImageOnlyClassifier, TextOnlyClassifier, type ImageOnlyOptions, type TextOnlyOptions } from './unimodal.js';
export { DualEncoderClassifier, type DualEncoderOptions } from './dual-encoder.js';
export { BlipClassifier, type BlipOptions } from './blip.js';
export {
  RECIPES,
  buildClassifier,
  classifierFromConfig,
  loadClassifier,
  readRecipeConfig,
  recipeConfigFor,
  saveClassifier,
  sourceFolderFiles,
  type AnyClassifier,
  type RecipeName,
  type RecipeSpec,
} from './builder.js';
export { allRecipes, recipeNamed, recipeForModelType, checkSpec } from './registry.js';
export type { Recipe, RecipeOption, RecipeCheckpoints } from './recipe.js';
