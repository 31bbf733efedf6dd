/**
 * Building classifiers from Hugging Face model folders, and run checkpoints as model folders.
 *
 * buildClassifier(spec, { init }): 'pretrained' loads the checkpoints of the named folders into the recipe's
 * encoders (heads, projections and fusion layers start fresh); 'random' builds everything from the folders'
 * config.json only, with the families' Hugging Face initialisation.
 *
 * A run checkpoint is a model folder:
 * - config.json: { model_type: "tandem", architectures, id2label, label2id, tandem: RecipeConfig }, where the
 *   RecipeConfig holds the recipe options, the label names and the sub-models' full Hugging Face configs
 *   (text_config / vision_config / model_config), so no other folder is needed to rebuild it;
 * - model.safetensors: the whole state dict (names as stateDict(): `text_encoder.…`, `image_encoder.…`,
 *   `vilt.…`, `classifier.weight`, `logit_scale`, …);
 * - any extra files (tokenizer.json, preprocessor_config.json, …): see sourceFolderFiles.
 * Every file is written atomically. loadClassifier rebuilds the recipe with random weights from the saved
 * configs, then loads the state dict strictly (missing and unexpected names are listed).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../tensor/index.js';
import { writeFileAtomic } from '../io/atomic-write.js';
import {
  readJsonObject,
  readModelConfig,
  PREPROCESSOR_CONFIG_FILE,
  SPECIAL_TOKENS_MAP_FILE,
  TOKENIZER_CONFIG_FILE,
  TOKENIZER_FILE,
  CONFIG_FILE,
} from '../io/model-folder.js';
import { SINGLE_WEIGHTS } from '../io/safetensors.js';
import { saveTensors } from '../io/tensors.js';
import { loadCheckpointInto } from '../models/common.js';
import { checkHeadOptions, type HeadKind, type HeadOptions } from './base.js';
import { withWeights } from './encoders.js';
import { readOptions, type RecipeSpec } from './recipe.js';
import { allRecipes, checkSpec, recipeNamed } from './registry.js';
import type { MultimodalClassifier, RecipeConfig } from './types.js';

export { RECIPES, type RecipeName } from './registry.js';
export type { RecipeSpec } from './recipe.js';

/** Any recipe's classifier. */
export type AnyClassifier = MultimodalClassifier;

/** The recipe config a spec describes, reading the sub-models' config.json. */
export function recipeConfigFor(spec: RecipeSpec): RecipeConfig {
  const recipe = checkSpec(spec);
  const common = {
    recipe: recipe.name,
    numLabels: spec.numLabels,
    labelNames: spec.labelNames,
    ...(spec.multiLabel !== undefined ? { multiLabel: spec.multiLabel } : {}),
    ...(spec.dropout !== undefined ? { dropout: spec.dropout } : {}),
    ...(spec.itcDim !== undefined ? { itcDim: spec.itcDim } : {}),
    ...(spec.head !== undefined ? { head: spec.head } : {}),
    ...(spec.itmDropout !== undefined ? { itmDropout: spec.itmDropout } : {}),
  };
  return {
    ...common,
    ...readOptions(recipe, spec, `recipe "${recipe.name}"`),
    ...recipe.configs(spec, readModelConfig),
  };
}

/** Whether the classifier a recipe config describes has a frozen image encoder (what a feature cache stores). */
export function hasFrozenImageEncoder(cfg: RecipeConfig): boolean {
  return recipeNamed(cfg.recipe).frozenImageEncoder?.(cfg) ?? false;
}

/** The recipes that can have a frozen image encoder. */
export function recipesWithFrozenImageEncoder(): string[] {
  return allRecipes()
    .filter((r) => r.frozenImageEncoder)
    .map((r) => r.name);
}

/** The shared head options of a config, type-checked. */
function headOptions(cfg: RecipeConfig, where: string): HeadOptions {
  const optional = (key: string, type: 'number' | 'boolean' | 'string') => {
    const v = cfg[key];
    if (v === undefined) return {};
    if (typeof v !== type) throw new Error(`${where}: "${key}" must be a ${type}, got ${JSON.stringify(v)}`);
    return { [key]: v };
  };
  if (!Array.isArray(cfg.labelNames) || cfg.labelNames.some((n) => typeof n !== 'string'))
    throw new Error(`${where}: "labelNames" must be a list of strings`);
  const head: HeadOptions = {
    numLabels: cfg.numLabels,
    labelNames: cfg.labelNames,
    ...optional('multiLabel', 'boolean'),
    ...optional('dropout', 'number'),
    ...optional('itcDim', 'number'),
    ...(optional('head', 'string') as { head?: HeadKind }),
    ...optional('itmDropout', 'boolean'),
  };
  checkHeadOptions(head, where);
  return head;
}

/** Builds a recipe (random weights, HF-style init) from its config; `where` names the source in errors. */
export function classifierFromConfig(cfg: RecipeConfig, where = 'tandem config'): MultimodalClassifier {
  if (cfg === null || typeof cfg !== 'object') throw new Error(`${where}: expected an object`);
  const recipe = recipeNamed(cfg.recipe, `${where}: "recipe"`);
  return recipe.build({ head: headOptions(cfg, where), options: readOptions(recipe, cfg, where), cfg, where });
}

/** Builds the classifier a spec describes: pretrained encoders from the folders, or random weights from their configs. */
export function buildClassifier(spec: RecipeSpec, opts: { init: 'pretrained' | 'random' }): MultimodalClassifier {
  if (opts.init !== 'pretrained' && opts.init !== 'random')
    throw new Error(`buildClassifier: init must be "pretrained" or "random", got ${JSON.stringify(opts.init)}`);
  const recipe = recipeNamed(spec.recipe);
  const m = classifierFromConfig(recipeConfigFor(spec), `recipe "${recipe.name}"`);
  if (opts.init === 'pretrained') {
    try {
      recipe.loadPretrained(m, spec);
    } catch (e) {
      m.dispose();
      throw e;
    }
  }
  return m;
}

/** The tokenizer and processor files of the spec's folders, to save beside a run checkpoint. */
export function sourceFolderFiles(spec: RecipeSpec): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  const textDir = spec.textModel ?? spec.model;
  const imageDir = spec.imageModel ?? spec.model;
  for (const [dir, names] of [
    [textDir, [TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, SPECIAL_TOKENS_MAP_FILE]],
    [imageDir, [PREPROCESSOR_CONFIG_FILE]],
  ] as const) {
    if (!dir) continue;
    for (const n of names) if (existsSync(join(dir, n))) out[n] = readFileSync(join(dir, n));
  }
  return out;
}

const RESERVED = new Set([CONFIG_FILE, SINGLE_WEIGHTS]);

/** Writes a run checkpoint (model folder): model.safetensors, extra files, then config.json, each atomically. */
export function saveClassifier(
  dir: string,
  model: MultimodalClassifier,
  extraFiles: Record<string, string | Uint8Array> = {},
): void {
  mkdirSync(dir, { recursive: true });
  const cfg = model.recipeConfig();
  for (const name of Object.keys(extraFiles))
    if (RESERVED.has(name) || name.includes('/') || name.includes('\\') || name.startsWith('.'))
      throw new Error(
        `saveClassifier: extra file name "${name}" is not allowed (reserved, hidden, or not a plain file name)`,
      );
  saveTensors(join(dir, SINGLE_WEIGHTS), model.stateDict(), { format: 'pt' });
  for (const [name, data] of Object.entries(extraFiles)) writeFileAtomic(join(dir, name), data);
  const id2label = Object.fromEntries(cfg.labelNames.map((n, i) => [String(i), n]));
  const label2id = Object.fromEntries(cfg.labelNames.map((n, i) => [n, i]));
  const config = {
    model_type: 'tandem',
    architectures: [model.constructor.name],
    id2label,
    label2id,
    num_labels: cfg.numLabels,
    tandem: cfg,
  };
  writeFileAtomic(join(dir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
}

/** Reads the `tandem` section of a run checkpoint's config.json. */
export function readRecipeConfig(dir: string): RecipeConfig {
  const path = join(dir, CONFIG_FILE);
  if (!existsSync(path)) throw new Error(`${dir}: not a tandem model folder (no ${CONFIG_FILE})`);
  const config = readJsonObject(path);
  const t = config.tandem;
  if (t === null || typeof t !== 'object' || Array.isArray(t))
    throw new Error(
      `${path}: no "tandem" section (this is not a tandem run checkpoint; a Hugging Face model folder is given with --model or --text-model/--image-model)`,
    );
  return t as RecipeConfig;
}

/** Rebuilds a run checkpoint: the recipe from config.json (random init), then its state dict, strictly. */
export function loadClassifier(dir: string): MultimodalClassifier {
  const cfg = readRecipeConfig(dir);
  const m = classifierFromConfig(cfg, `${join(dir, CONFIG_FILE)} › tandem`);
  try {
    noGrad(() => withWeights(dir, (s) => loadCheckpointInto(m, s)));
  } catch (e) {
    m.dispose();
    throw e;
  }
  return m;
}
