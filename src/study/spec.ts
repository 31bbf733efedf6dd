// A study specification: datasets × models × objective settings × seeds, with shared training options and
// what the report compares. Read from YAML or JSON and validated here, every error naming the file and field.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { readJsonObject } from '../io/model-folder.js';
import { recipeNamed } from '../multimodal/registry.js';
import type { Modality } from '../multimodal/types.js';

/** A `tandem train` flag value: a string or number is passed as `--flag VALUE`, true as `--flag`, false omitted. */
export type FlagValue = string | number | boolean;

export interface StudyDataset {
  name: string;
  /** Absolute path of the data (resolved against the specification's folder). */
  data: string;
  format?: string;
  variant?: string;
  /** Further `tandem train` flags for this dataset only (e.g. `missing-image: blank`). */
  options: Record<string, FlagValue>;
}

export interface StudyModel {
  name: string;
  options: Record<string, FlagValue>;
}

export const REPORT_METRICS = [
  'accuracy',
  'f1_macro',
  'f1_weighted',
  'f1_micro',
  'precision_macro',
  'recall_macro',
  'precision_weighted',
  'recall_weighted',
] as const;
export type ReportMetric = (typeof REPORT_METRICS)[number];

export interface StudySpec {
  datasets: StudyDataset[];
  models: StudyModel[];
  /** Setting names as written (`ce`, `ce+itc`, ...). */
  objectives: string[];
  seeds: number[];
  train: Record<string, FlagValue>;
  report: {
    split: 'test' | 'dev';
    metrics: ReportMetric[];
    /** The paired test against CE: paired bootstrap (default) or approximate randomisation. */
    test: 'bootstrap' | 'randomization';
    /** Resamples of that test (default 1000). */
    resamples: number;
  };
}

export const DEFAULT_OBJECTIVES = ['ce', 'ce+itc', 'ce+itm', 'ce+itc+itm'];

/** Flags the study sets itself for each run; a specification may not set them. */
const RESERVED = new Set(['data', 'format', 'variant', 'out', 'seed', 'aux', 'resume', 'json', 'help']);
/** Flags whose value is a path: resolved against the specification's folder when it exists there. */
const PATH_FLAGS = new Set(['model', 'text-model', 'image-model', 'config', 'feature-cache']);
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const FLAG = /^[a-z][a-z0-9-]*$/;

export class SpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpecError';
  }
}

/** The auxiliary tasks of a setting name (`ce+itc+itm` → ['itc', 'itm']), or an error naming the field. */
export function auxOf(setting: string, field = 'objectives'): ('itc' | 'itm')[] {
  const parts = setting.split('+').map((s) => s.trim());
  if (parts[0] !== 'ce' || parts.some((p) => !['ce', 'itc', 'itm'].includes(p)) || new Set(parts).size !== parts.length)
    throw new SpecError(
      `${field}: '${setting}' is not an objective setting (expected ce, ce+itc, ce+itm or ce+itc+itm)`,
    );
  return parts.slice(1) as ('itc' | 'itm')[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function flags(v: unknown, field: string, baseDir: string): Record<string, FlagValue> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) throw new SpecError(`${field}: expected a mapping of tandem train flags, got ${JSON.stringify(v)}`);
  const out: Record<string, FlagValue> = {};
  for (const [k, x] of Object.entries(v)) {
    if (!FLAG.test(k)) throw new SpecError(`${field}.${k}: not a flag name (write train's flags without dashes)`);
    if (RESERVED.has(k)) throw new SpecError(`${field}.${k}: set by the study for each run; remove it`);
    if (typeof x === 'number' ? !Number.isFinite(x) : typeof x !== 'string' && typeof x !== 'boolean')
      throw new SpecError(`${field}.${k}: expected a string, number or boolean, got ${JSON.stringify(x)}`);
    out[k] = typeof x === 'string' && PATH_FLAGS.has(k) ? resolveIfExists(x, baseDir) : (x as FlagValue);
  }
  return out;
}

function resolveIfExists(p: string, baseDir: string): string {
  if (isAbsolute(p)) return p;
  const r = resolve(baseDir, p);
  // not a local folder: a Hub id such as vinai/bertweet-base, which train resolves itself
  return existsSync(r) ? r : p;
}

function name(v: unknown, field: string, seen: Set<string>): string {
  if (typeof v !== 'string' || !NAME.test(v))
    throw new SpecError(`${field}: expected a name of letters, digits, '.', '_' or '-', got ${JSON.stringify(v)}`);
  if (seen.has(v)) throw new SpecError(`${field}: the name '${v}' is used twice`);
  seen.add(v);
  return v;
}

function list(v: unknown, field: string): unknown[] {
  if (!Array.isArray(v) || v.length === 0) throw new SpecError(`${field}: expected a non-empty list`);
  return v;
}

function onlyKeys(o: Record<string, unknown>, allowed: string[], field: string): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) throw new SpecError(`${field}.${k}: unknown field (expected ${allowed.join(', ')})`);
}

/**
 * The recipe a model's options select, where the specification says it: `recipe`, or a tandem run checkpoint
 * given as `model` (its config.json names the recipe). Undefined: train infers it from the checkpoints.
 */
function recipeOfModel(m: StudyModel, field: string): string | undefined {
  const { recipe, model } = m.options;
  if (recipe !== undefined) {
    try {
      return recipeNamed(recipe, `${field}.options.recipe`).name;
    } catch (e) {
      throw new SpecError((e as Error).message);
    }
  }
  if (typeof model !== 'string' || !existsSync(join(model, 'config.json'))) return undefined;
  const t = readJsonObject(join(model, 'config.json')).tandem as { recipe?: unknown } | undefined;
  return typeof t?.recipe === 'string' ? t.recipe : undefined;
}

/**
 * Why an objective setting does not apply to a model (null when it does): ITC and ITM pair a text with an
 * image, so a one-modality model (text-only, image-only) runs only the settings without them. A model whose
 * recipe the specification does not name is one train infers from its checkpoints: always image-text.
 */
export function notApplicable(m: StudyModel, setting: string): string | null {
  if (auxOf(setting).length === 0) return null;
  const name = recipeOfModel(m, 'models');
  const reads: readonly Modality[] = name === undefined ? ['text', 'image'] : recipeNamed(name).modalities;
  if (reads.length === 2) return null;
  return `one modality: recipe ${name} reads only the ${reads.join(' and ')} of each post, and ${setting} pairs a text with an image`;
}

/** The objective settings a model of the specification runs (the others are not applicable to it). */
export function settingsOf(spec: StudySpec, m: StudyModel): string[] {
  return spec.objectives.filter((o) => notApplicable(m, o) === null);
}

/**
 * A one-modality model runs only the settings without ITC or ITM; with none of those in the study it would have
 * no run at all, so the specification is refused first.
 */
function checkModelObjectives(m: StudyModel, field: string, objectives: string[]): void {
  // (the recipe named here first, so that a mistyped one is refused naming this field)
  const name = recipeOfModel(m, field);
  if (name === undefined || objectives.some((o) => notApplicable(m, o) === null)) return;
  throw new SpecError(
    `${field} '${m.name}': recipe ${name} reads only the ${recipeNamed(name).modalities.join(' and ')} of each post, so none of the objective settings (${objectives.join(', ')}) applies to it and it would have no run: ITC and ITM pair a text with an image (add ce to objectives)`,
  );
}

/** Validates a parsed specification; relative data and model paths are taken from `baseDir`. */
export function validateSpec(raw: unknown, baseDir: string): StudySpec {
  if (!isObject(raw)) throw new SpecError('the specification must be a mapping (datasets, models, ...)');
  onlyKeys(raw, ['datasets', 'models', 'objectives', 'seeds', 'train', 'report'], 'study');
  const dsNames = new Set<string>();
  const datasets = list(raw.datasets, 'datasets').map((d, i): StudyDataset => {
    const f = `datasets[${i}]`;
    if (!isObject(d)) throw new SpecError(`${f}: expected a mapping with name and data`);
    onlyKeys(d, ['name', 'data', 'format', 'variant', 'options'], f);
    if (typeof d.data !== 'string' || d.data === '') throw new SpecError(`${f}.data: expected a path`);
    for (const k of ['format', 'variant'] as const)
      if (d[k] !== undefined && typeof d[k] !== 'string') throw new SpecError(`${f}.${k}: expected a string`);
    return {
      name: name(d.name, `${f}.name`, dsNames),
      data: resolve(baseDir, d.data),
      ...(d.format !== undefined ? { format: d.format as string } : {}),
      ...(d.variant !== undefined ? { variant: d.variant as string } : {}),
      options: flags(d.options, `${f}.options`, baseDir),
    };
  });
  const modelNames = new Set<string>();
  const models = list(raw.models, 'models').map((m, i): StudyModel => {
    const f = `models[${i}]`;
    if (!isObject(m)) throw new SpecError(`${f}: expected a mapping with name and options`);
    onlyKeys(m, ['name', 'options'], f);
    return { name: name(m.name, `${f}.name`, modelNames), options: flags(m.options, `${f}.options`, baseDir) };
  });
  const objectives = (raw.objectives === undefined ? DEFAULT_OBJECTIVES : list(raw.objectives, 'objectives')).map(
    (o, i) => {
      if (typeof o !== 'string') throw new SpecError(`objectives[${i}]: expected a setting name such as ce+itc`);
      auxOf(o, `objectives[${i}]`);
      return o;
    },
  );
  if (new Set(objectives).size !== objectives.length) throw new SpecError('objectives: a setting is listed twice');
  models.forEach((m, i) => checkModelObjectives(m, `models[${i}]`, objectives));
  const seeds = (raw.seeds === undefined ? [1, 2, 3] : list(raw.seeds, 'seeds')).map((s, i) => {
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0)
      throw new SpecError(`seeds[${i}]: expected a non-negative integer, got ${JSON.stringify(s)}`);
    return s;
  });
  if (new Set(seeds).size !== seeds.length) throw new SpecError('seeds: a seed is listed twice');
  const train = flags(raw.train, 'train', baseDir);
  const r = raw.report === undefined ? {} : raw.report;
  if (!isObject(r)) throw new SpecError('report: expected a mapping (split, metrics, test, resamples)');
  onlyKeys(r, ['split', 'metrics', 'test', 'resamples'], 'report');
  const split = r.split ?? 'test';
  if (split !== 'test' && split !== 'dev') throw new SpecError(`report.split: expected test or dev, got '${split}'`);
  const metrics = (r.metrics === undefined ? ['f1_weighted', 'f1_macro'] : list(r.metrics, 'report.metrics')).map(
    (m, i) => {
      if (!(REPORT_METRICS as readonly unknown[]).includes(m))
        throw new SpecError(`report.metrics[${i}]: '${m}' is not one of ${REPORT_METRICS.join(', ')}`);
      return m as ReportMetric;
    },
  );
  const test = r.test ?? 'bootstrap';
  if (test !== 'bootstrap' && test !== 'randomization')
    throw new SpecError(`report.test: expected bootstrap or randomization, got '${test}'`);
  const resamples = r.resamples ?? 1000;
  if (typeof resamples !== 'number' || !Number.isInteger(resamples) || resamples < 10)
    throw new SpecError(`report.resamples: expected an integer of at least 10, got ${JSON.stringify(resamples)}`);
  return { datasets, models, objectives, seeds, train, report: { split, metrics, test, resamples } };
}

/** Reads and validates a specification file (.yaml, .yml or .json). */
export function readSpec(path: string): StudySpec {
  const file = resolve(path);
  if (!existsSync(file)) throw new SpecError(`${file}: no such specification file`);
  const text = readFileSync(file, 'utf8');
  let raw: unknown;
  try {
    raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new SpecError(`${file}: ${(e as Error).message}`);
  }
  try {
    return validateSpec(raw, dirname(file));
  } catch (e) {
    if (e instanceof SpecError) throw new SpecError(`${file}: ${e.message}`);
    throw e;
  }
}
