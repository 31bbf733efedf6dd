/**
 * The contract every classifier recipe file (src/multimodal/recipes/<name>.ts) exports as `recipe`, as the
 * model families do in src/models/family.ts: what the recipe accepts (which checkpoints, which model types,
 * which options with their types and defaults), how to build it from a saved config and how to load
 * pretrained checkpoints into it. The builder (builder.ts) and the `tandem train` flags are derived from
 * these declarations, so a new recipe is one new file in recipes/.
 */
import type { Config } from '../models/common.js';
import type { HeadOptions } from './base.js';
import type { Modality, MultimodalClassifier, RecipeConfig } from './types.js';

/** Option value types; 'int-pair' is [rows, cols] of positive integers. */
export type RecipeOptionType = 'boolean' | 'int' | 'number' | 'enum' | 'int-pair';

export interface RecipeOption {
  /** The key in a RecipeSpec and in the saved config (camelCase, e.g. `fusionDim`). */
  readonly key: string;
  readonly type: RecipeOptionType;
  /** Allowed values of an 'enum'. */
  readonly choices?: readonly string[];
  /** The value when the option is not given (documentation and help; the recipe applies it). */
  readonly default?: unknown;
  /** Lower bound of an 'int' or 'number'. */
  readonly min?: number;
  readonly help: string;
  /**
   * How `tandem train` exposes it: the flag (kebab-case) and, for a boolean flag that sets the opposite
   * (`--train-image-encoder` sets freezeImage false), `negate`. Absent: library only.
   */
  readonly cli?: { readonly flag: string; readonly negate?: boolean; readonly metavar?: string };
}

/** Which model folders a recipe reads: required, optional, or (absent) refused. */
export interface RecipeCheckpoints {
  readonly model?: 'required' | 'optional';
  readonly textModel?: 'required' | 'optional';
  readonly imageModel?: 'required' | 'optional';
}

export type CheckpointKey = keyof RecipeCheckpoints;
export const CHECKPOINT_KEYS: readonly CheckpointKey[] = ['model', 'textModel', 'imageModel'];

/** What a library user or the CLI asks for: a recipe, its model folders, its options. */
export interface RecipeSpec {
  recipe: string;
  /** Text model folder (two-tower recipes). */
  textModel?: string;
  /** Image model folder (two-tower recipes; LXMERT's optional region source). */
  imageModel?: string;
  /** Single-checkpoint recipes (vilt, lxmert, clip, siglip, blip). */
  model?: string;
  numLabels: number;
  labelNames: string[];
  multiLabel?: boolean;
  /** Dropout before the classifier head (default 0.05). */
  dropout?: number;
  /** Width of new ITC projections. */
  itcDim?: number;
  /** Classifier and ITM heads: linear (default) or mlp. */
  head?: string;
  /** Dropout before the ITM head too (default false, the paper's). */
  itmDropout?: boolean;
  /** Recipe options (see each recipe's `options`): validated against the recipe, unknown ones refused. */
  [option: string]: unknown;
}

/** Options every recipe takes (they configure the shared heads in base.ts). */
export const COMMON_KEYS = [
  'recipe',
  'numLabels',
  'labelNames',
  'multiLabel',
  'dropout',
  'itcDim',
  'head',
  'itmDropout',
] as const;

export interface Recipe<M extends MultimodalClassifier = MultimodalClassifier> {
  readonly name: string;
  /** One line for `--help` and docs. */
  readonly summary: string;
  readonly checkpoints: RecipeCheckpoints;
  /** model_type values of a single checkpoint (`--model`) that select this recipe when none is named. */
  readonly modelTypes?: readonly string[];
  readonly options: readonly RecipeOption[];
  /**
   * What the recipe reads of each post. The data pipeline, evaluation and prediction follow it: a one-modality
   * baseline (['text'] or ['image']) loads only that preprocessor and never opens what it does not read, and
   * the auxiliary objectives (which pair a text with an image) need both.
   */
  readonly modalities: readonly Modality[];
  /**
   * The Hugging Face configs the saved config must hold to rebuild the recipe without its folders
   * (`text_config`, `vision_config`, `model_config`), read from the spec's folders with `read`.
   */
  configs(spec: RecipeSpec, read: (dir: string) => Config): Record<string, Config>;
  /**
   * Whether the classifier built from `cfg` has a frozen image encoder (its `frozenImageFeatures`), whose
   * outputs a feature cache can store. Absent: never (the image side trains, or is fused into one stream).
   */
  frozenImageEncoder?(cfg: RecipeConfig): boolean;
  /** Extra cross-option checks on a spec (after each option was validated alone). */
  check?(spec: RecipeSpec): void;
  /**
   * Builds the classifier (random weights, the families' Hugging Face initialisation) from a config:
   * `head` the shared head options, `options` this recipe's options (validated, absent ones left out).
   */
  build(args: BuildArgs): M;
  /** Copies the pretrained checkpoints of the spec's folders into a freshly built classifier. */
  loadPretrained(model: M, spec: RecipeSpec): void;
}

export interface BuildArgs {
  head: HeadOptions;
  options: Record<string, unknown>;
  cfg: RecipeConfig;
  /** Names the config's source in errors. */
  where: string;
}

/** Validates one option value (from a spec or a saved config); `where` names the source in errors. */
export function checkOptionValue(opt: RecipeOption, v: unknown, where: string): void {
  const bad = (expected: string) => new Error(`${where}: "${opt.key}" must be ${expected}, got ${JSON.stringify(v)}`);
  switch (opt.type) {
    case 'boolean':
      if (typeof v !== 'boolean') throw bad('true or false');
      return;
    case 'int':
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v) || (opt.type === 'int' && !Number.isInteger(v)))
        throw bad(opt.type === 'int' ? 'an integer' : 'a number');
      if (opt.min !== undefined && v < opt.min) throw bad(`at least ${opt.min}`);
      return;
    case 'enum':
      if (typeof v !== 'string' || !opt.choices!.includes(v))
        throw new Error(
          `${where}: "${opt.key}": ${JSON.stringify(v)} is not supported (supported: ${opt.choices!.join(', ')})`,
        );
      return;
    case 'int-pair':
      if (!(Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x) && (x as number) > 0)))
        throw bad('[rows, cols] (positive integers)');
      return;
  }
}

/** The options of a config that a recipe declares, validated, with absent ones left out. */
export function readOptions(recipe: Recipe, cfg: Record<string, unknown>, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const opt of recipe.options) {
    const v = cfg[opt.key];
    if (v === undefined) continue;
    checkOptionValue(opt, v, where);
    out[opt.key] = v;
  }
  return out;
}

/** A Hugging Face config held in a saved recipe config. */
export function subConfig(cfg: RecipeConfig, key: string, where: string): Config {
  const v = cfg[key];
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new Error(`${where}: "${key}" must be an object (a Hugging Face config), got ${JSON.stringify(v)}`);
  return v as Config;
}

/** The folder a spec gives for a checkpoint key (the registry has checked that required ones are there). */
export function folderOf(spec: RecipeSpec, key: CheckpointKey): string {
  const v = spec[key];
  if (typeof v !== 'string' || v === '')
    throw new Error(`recipe "${spec.recipe}": "${key}" (a model folder) is required`);
  return v;
}
