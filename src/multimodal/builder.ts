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
  openModelWeights,
  readJsonObject,
  readModelConfig,
  PREPROCESSOR_CONFIG_FILE,
  SPECIAL_TOKENS_MAP_FILE,
  TOKENIZER_CONFIG_FILE,
  TOKENIZER_FILE,
  CONFIG_FILE,
} from '../io/model-folder.js';
import type { TensorSource } from '../io/safetensors.js';
import { SINGLE_WEIGHTS } from '../io/safetensors.js';
import { saveTensors } from '../io/tensors.js';
import { loadCheckpointInto, type Config } from '../models/common.js';
import { family as viltFamily } from '../models/vilt.js';
import { family as clipFamily } from '../models/clip.js';
import { family as siglipFamily } from '../models/siglip.js';
import { family as blipFamily } from '../models/blip.js';
import { loadLxmertCheckpoint } from '../models/lxmert.js';
import type { HeadKind, HeadOptions } from './base.js';
import { BlipClassifier } from './blip.js';
import { DualEncoderClassifier } from './dual-encoder.js';
import { loadImageEncoder, loadTextEncoder } from './encoders.js';
import { FUSIONS, isRepresentation, REPRESENTATIONS, type FusionKind, type Representation } from './fusion.js';
import { LateFusionClassifier } from './late-fusion.js';
import { LXMERT_ITC, LxmertClassifier, type LxmertItc } from './lxmert.js';
import { MmbtClassifier } from './mmbt.js';
import type { MultimodalClassifier, RecipeConfig } from './types.js';
import { ViltClassifier } from './vilt.js';

export const RECIPES = ['late-fusion', 'mmbt', 'vilt', 'lxmert', 'clip', 'siglip', 'blip'] as const;
export type RecipeName = (typeof RECIPES)[number];

/** Recipes built from one checkpoint (`model`); the others take `textModel` + `imageModel`. */
const SINGLE_CHECKPOINT: readonly RecipeName[] = ['vilt', 'lxmert', 'clip', 'siglip', 'blip'];

export interface RecipeSpec {
  recipe: RecipeName;
  /** Text model folder (late-fusion, mmbt). */
  textModel?: string;
  /** Image model folder (late-fusion, mmbt; optional for lxmert: region features from its patches). */
  imageModel?: string;
  /** Single-checkpoint recipes (vilt, lxmert, clip, siglip, blip). */
  model?: string;
  fusion?: FusionKind;
  fusionDim?: number;
  freezeImage?: boolean;
  numLabels: number;
  labelNames: string[];
  multiLabel?: boolean;
  itcDim?: number;
  dropout?: number;
  /** Classifier and ITM heads: linear (default) or mlp. */
  head?: HeadKind;
  /** MMBT: number of image tokens. */
  imageTokens?: number;
  /** LXMERT: pool the patch grid to rows x cols regions. */
  regions?: [number, number];
  /** late-fusion, vilt, lxmert: 'first-token' (the paper's) or 'pooled'. */
  representation?: Representation;
  /** Dropout before the ITM head too (default false, the paper's). */
  itmDropout?: boolean;
  /** ViLT: new projections on the ITC states (default false, the paper's). */
  itcProjection?: boolean;
  /** LXMERT: 'max-pool' (the paper's) or 'unimodal'. */
  itcRepresentation?: LxmertItc;
  /** LXMERT with 'max-pool': detach the language side (default true, the paper's). */
  itcDetachText?: boolean;
}

export type AnyClassifier =
  LateFusionClassifier | MmbtClassifier | ViltClassifier | LxmertClassifier | DualEncoderClassifier | BlipClassifier;

function need(spec: RecipeSpec, key: 'textModel' | 'imageModel' | 'model'): string {
  const v = spec[key];
  if (typeof v !== 'string' || v === '')
    throw new Error(`recipe "${spec.recipe}": "${key}" (a model folder) is required`);
  return v;
}

function withSource<T>(dir: string, fn: (s: TensorSource) => T): T {
  const s = openModelWeights(dir);
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

/** The recipe config a spec describes, reading the sub-models' config.json. */
export function recipeConfigFor(spec: RecipeSpec): RecipeConfig {
  if (!(RECIPES as readonly string[]).includes(spec.recipe))
    throw new Error(`recipe: "${String(spec.recipe)}" is not supported (supported: ${RECIPES.join(', ')})`);
  const base: RecipeConfig = {
    recipe: spec.recipe,
    numLabels: spec.numLabels,
    labelNames: spec.labelNames,
    ...(spec.multiLabel !== undefined ? { multiLabel: spec.multiLabel } : {}),
    ...(spec.dropout !== undefined ? { dropout: spec.dropout } : {}),
    ...(spec.itcDim !== undefined ? { itcDim: spec.itcDim } : {}),
    ...(spec.head !== undefined ? { head: spec.head } : {}),
    ...(spec.itmDropout !== undefined ? { itmDropout: spec.itmDropout } : {}),
  };
  const opt = <K extends keyof RecipeSpec>(k: K) => (spec[k] !== undefined ? { [k]: spec[k] } : {});
  // an option the recipe would silently ignore is refused
  const applies: Record<string, readonly RecipeName[]> = {
    fusion: ['late-fusion', 'clip', 'siglip'],
    fusionDim: ['late-fusion', 'clip', 'siglip'],
    freezeImage: ['late-fusion', 'mmbt', 'lxmert'],
    imageTokens: ['mmbt'],
    regions: ['lxmert'],
    representation: ['late-fusion', 'vilt', 'lxmert'],
    itcProjection: ['vilt'],
    itcRepresentation: ['lxmert'],
    itcDetachText: ['lxmert'],
  };
  for (const [k, recipes] of Object.entries(applies))
    if (spec[k as keyof RecipeSpec] !== undefined && !recipes.includes(spec.recipe))
      throw new Error(`recipe "${spec.recipe}": option "${k}" does not apply (it is for: ${recipes.join(', ')})`);
  if (spec.recipe === 'lxmert' && spec.freezeImage !== undefined && !spec.imageModel)
    throw new Error('recipe "lxmert": option "freezeImage" needs imageModel (region features from an image encoder)');
  if (!SINGLE_CHECKPOINT.includes(spec.recipe)) {
    if (spec.model) throw new Error(`recipe "${spec.recipe}": give textModel and imageModel, not model`);
    return {
      ...base,
      ...opt('freezeImage'),
      ...(spec.recipe === 'late-fusion'
        ? { ...opt('fusion'), ...opt('fusionDim'), ...opt('representation') }
        : opt('imageTokens')),
      text_config: readModelConfig(need(spec, 'textModel')),
      vision_config: readModelConfig(need(spec, 'imageModel')),
    };
  }
  if (spec.textModel) throw new Error(`recipe "${spec.recipe}": give model (one checkpoint), not textModel`);
  if (spec.imageModel && spec.recipe !== 'lxmert')
    throw new Error(`recipe "${spec.recipe}": give model (one checkpoint), not imageModel`);
  const model_config = readModelConfig(need(spec, 'model'));
  if (spec.recipe === 'lxmert')
    return {
      ...base,
      ...opt('regions'),
      ...opt('representation'),
      ...opt('itcRepresentation'),
      ...opt('itcDetachText'),
      model_config,
      ...(spec.imageModel ? { ...opt('freezeImage'), vision_config: readModelConfig(spec.imageModel) } : {}),
    };
  if (spec.recipe === 'clip' || spec.recipe === 'siglip')
    return { ...base, ...opt('fusion'), ...opt('fusionDim'), model_config };
  if (spec.recipe === 'vilt') return { ...base, ...opt('representation'), ...opt('itcProjection'), model_config };
  return { ...base, model_config };
}

function obj(cfg: RecipeConfig, key: string, where: string): Config {
  const v = cfg[key];
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new Error(`${where}: "${key}" must be an object (a Hugging Face config), got ${JSON.stringify(v)}`);
  return v as Config;
}
function optNum(cfg: RecipeConfig, key: string, where: string): number | undefined {
  const v = cfg[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number') throw new Error(`${where}: "${key}" must be a number, got ${JSON.stringify(v)}`);
  return v;
}
function optBool(cfg: RecipeConfig, key: string, where: string): boolean | undefined {
  const v = cfg[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new Error(`${where}: "${key}" must be true or false, got ${JSON.stringify(v)}`);
  return v;
}
function optRepresentation(cfg: RecipeConfig, where: string): { representation?: Representation } {
  const v = cfg.representation;
  if (v === undefined) return {};
  if (!isRepresentation(v))
    throw new Error(
      `${where}: "representation": ${JSON.stringify(v)} is not supported (supported: ${REPRESENTATIONS.join(', ')})`,
    );
  return { representation: v };
}
function optFusion(cfg: RecipeConfig, where: string): FusionKind | undefined {
  const v = cfg.fusion;
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(FUSIONS as readonly string[]).includes(v))
    throw new Error(`${where}: "fusion": ${JSON.stringify(v)} is not supported (supported: ${FUSIONS.join(', ')})`);
  return v as FusionKind;
}

/** Builds a recipe (random weights, HF-style init) from its config; `where` names the source in errors. */
export function classifierFromConfig(cfg: RecipeConfig, where = 'tandem config'): AnyClassifier {
  if (cfg === null || typeof cfg !== 'object') throw new Error(`${where}: expected an object`);
  if (!(RECIPES as readonly string[]).includes(cfg.recipe))
    throw new Error(
      `${where}: "recipe": ${JSON.stringify(cfg.recipe)} is not supported (supported: ${RECIPES.join(', ')})`,
    );
  if (!Array.isArray(cfg.labelNames) || cfg.labelNames.some((n) => typeof n !== 'string'))
    throw new Error(`${where}: "labelNames" must be a list of strings`);
  const head: HeadOptions = {
    numLabels: cfg.numLabels,
    labelNames: cfg.labelNames,
    ...(optBool(cfg, 'multiLabel', where) !== undefined ? { multiLabel: cfg.multiLabel as boolean } : {}),
    ...(optNum(cfg, 'dropout', where) !== undefined ? { dropout: cfg.dropout as number } : {}),
    ...(optNum(cfg, 'itcDim', where) !== undefined ? { itcDim: cfg.itcDim as number } : {}),
    ...(cfg.head !== undefined ? { head: cfg.head as HeadKind } : {}),
    ...(optBool(cfg, 'itmDropout', where) !== undefined ? { itmDropout: cfg.itmDropout as boolean } : {}),
  };
  const fusion = optFusion(cfg, where);
  const fusionDim = optNum(cfg, 'fusionDim', where);
  const freezeImage = optBool(cfg, 'freezeImage', where);
  const f = { ...(fusion ? { fusion } : {}), ...(fusionDim !== undefined ? { fusionDim } : {}) };
  const fz = freezeImage !== undefined ? { freezeImage } : {};
  switch (cfg.recipe as RecipeName) {
    case 'late-fusion':
      return new LateFusionClassifier({
        ...head,
        ...f,
        ...fz,
        ...optRepresentation(cfg, where),
        text_config: obj(cfg, 'text_config', where),
        vision_config: obj(cfg, 'vision_config', where),
      });
    case 'mmbt': {
      const imageTokens = optNum(cfg, 'imageTokens', where);
      return new MmbtClassifier({
        ...head,
        ...fz,
        ...(imageTokens !== undefined ? { imageTokens } : {}),
        text_config: obj(cfg, 'text_config', where),
        vision_config: obj(cfg, 'vision_config', where),
      });
    }
    case 'vilt':
      return new ViltClassifier({
        ...head,
        ...optRepresentation(cfg, where),
        ...(optBool(cfg, 'itcProjection', where) !== undefined ? { itcProjection: cfg.itcProjection as boolean } : {}),
        model_config: obj(cfg, 'model_config', where),
      });
    case 'lxmert': {
      const r = cfg.regions;
      if (
        r !== undefined &&
        !(Array.isArray(r) && r.length === 2 && r.every((x) => Number.isInteger(x) && (x as number) > 0))
      )
        throw new Error(`${where}: "regions" must be [rows, cols] (positive integers), got ${JSON.stringify(r)}`);
      const itc = cfg.itcRepresentation;
      if (itc !== undefined && !(LXMERT_ITC as readonly unknown[]).includes(itc))
        throw new Error(
          `${where}: "itcRepresentation": ${JSON.stringify(itc)} is not supported (supported: ${LXMERT_ITC.join(', ')})`,
        );
      const detach = optBool(cfg, 'itcDetachText', where);
      return new LxmertClassifier({
        ...head,
        ...fz,
        ...optRepresentation(cfg, where),
        ...(itc !== undefined ? { itcRepresentation: itc as LxmertItc } : {}),
        ...(detach !== undefined ? { itcDetachText: detach } : {}),
        ...(r ? { regions: r as [number, number] } : {}),
        model_config: obj(cfg, 'model_config', where),
        ...(cfg.vision_config !== undefined ? { vision_config: obj(cfg, 'vision_config', where) } : {}),
      });
    }
    case 'clip':
    case 'siglip':
      return new DualEncoderClassifier(cfg.recipe as 'clip' | 'siglip', {
        ...head,
        ...f,
        model_config: obj(cfg, 'model_config', where),
      });
    case 'blip':
      return new BlipClassifier({ ...head, model_config: obj(cfg, 'model_config', where) });
  }
}

/** Loads the pretrained checkpoints of the spec's folders into a freshly built classifier. */
function loadPretrained(m: AnyClassifier, spec: RecipeSpec): void {
  noGrad(() => {
    if (m instanceof LateFusionClassifier || m instanceof MmbtClassifier) {
      withSource(need(spec, 'textModel'), (s) => loadTextEncoder(m.text_encoder, s));
      withSource(need(spec, 'imageModel'), (s) => loadImageEncoder(m.image_encoder, s));
    } else if (m instanceof ViltClassifier) withSource(need(spec, 'model'), (s) => viltFamily.load(m.vilt, s));
    else if (m instanceof LxmertClassifier) {
      const dir = need(spec, 'model');
      const own = readModelConfig(dir).visual_feat_dim ?? 2048;
      // a projection of another width than the image encoder's is replaced (and fine-tuned)
      const fresh = own !== m.lxmert.config.visual_feat_dim;
      withSource(dir, (s) => loadLxmertCheckpoint(m.lxmert, s, { newVisualProjection: fresh }));
      if (m.image_encoder) withSource(need(spec, 'imageModel'), (s) => loadImageEncoder(m.image_encoder!, s));
    } else if (m instanceof DualEncoderClassifier) {
      const model = m.model;
      withSource(need(spec, 'model'), (s) =>
        'projection_dim' in model.config ? clipFamily.load(model as never, s) : siglipFamily.load(model as never, s),
      );
    } else withSource(need(spec, 'model'), (s) => blipFamily.load(m.blip, s));
  });
}

/** Builds the classifier a spec describes: pretrained encoders from the folders, or random weights from their configs. */
export function buildClassifier(
  spec: RecipeSpec,
  opts: { init: 'pretrained' | 'random' },
): AnyClassifier & MultimodalClassifier {
  const m = classifierFromConfig(recipeConfigFor(spec), `recipe "${spec.recipe}"`);
  if (opts.init === 'pretrained') loadPretrained(m, spec);
  else if (opts.init !== 'random')
    throw new Error(`buildClassifier: init must be "pretrained" or "random", got ${JSON.stringify(opts.init)}`);
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
export function loadClassifier(dir: string): AnyClassifier & MultimodalClassifier {
  const cfg = readRecipeConfig(dir);
  const m = classifierFromConfig(cfg, `${join(dir, CONFIG_FILE)} › tandem`);
  try {
    noGrad(() => withSource(dir, (s) => loadCheckpointInto(m, s)));
  } catch (e) {
    m.dispose();
    throw e;
  }
  return m;
}
