// `tandem train`: fine-tune a classifier on posts with cross-entropy and the ITC / ITM auxiliary objectives.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isRepoId, resolveModelFolder } from '../../io/hub.js';
import { readModelConfig } from '../../io/model-folder.js';
import { RECIPES, readRecipeConfig, type RecipeName } from '../../multimodal/builder.js';
import { HEAD_KINDS } from '../../multimodal/base.js';
import { allRecipes, recipeForModelType, recipeNamed, singleCheckpointModelTypes } from '../../multimodal/registry.js';
import type { RecipeOption } from '../../multimodal/recipe.js';
import { MaxLengthError } from '../../multimodal/max-length.js';
import { ProcessGroup, processGroupFromEnv } from '../../tensor/distributed.js';
import { cudaDeviceCount, type Device } from '../../tensor/index.js';
import { DataParallel } from '../../train/data-parallel.js';
import { encodingFlag } from './data.js';
import { FORMAT_NAMES } from '../../data/formats/index.js';
import { DataError } from '../../data/rows.js';
import { MULTILABEL_REPORT_METRICS, REPORT_METRICS } from '../../eval/index.js';
import { runExperiment, readRunConfig, type ExperimentConfig } from '../../train/experiment.js';
import {
  DECAY_EXEMPT,
  DEFAULT_PRESET,
  PAPER,
  PRESET_NAMES,
  PRESETS,
  TRAIN_DEFAULTS,
  resolvePreset,
  type OptimisationPreset,
} from '../../train/defaults.js';
import { CliError, EXIT, signalExitCode } from '../args.js';
import { refuseFilledFolder } from '../out-folder.js';
import {
  defineCommand,
  parseCommand,
  type OptionSpec,
  deviceFlag,
  deviceOption,
  precisionOption,
  type OptionTable,
  type Values as ParsedValues,
} from '../options.js';

/** The recipe options: which recipe and its heads; each recipe's own options come from the registry below. */
const RECIPE_OPTIONS = {
  recipe: {
    type: 'enum',
    choices: RECIPES,
    group: 'Recipe',
    help: `the classifier recipe: ${allRecipes()
      .map((r) => `${r.name} (${r.summary})`)
      .join('; ')}`,
    defaultText: 'late-fusion with --text-model, else from --model',
  },
  head: {
    type: 'enum',
    choices: HEAD_KINDS,
    group: 'Recipe',
    help: "classifier and ITM heads: linear (the paper's) or a small MLP (reads text-image interactions out of concat fusion)",
    defaultText: 'linear',
  },
} as const satisfies OptionTable;

/**
 * The flags of the recipes' own options (each recipe file declares them with a `cli` flag): one flag per
 * option, its help naming the recipes it applies to. A flag a recipe does not declare is refused for it.
 */
function recipeFlags(): Record<string, { spec: OptionSpec; key: string; negate: boolean; recipes: string[] }> {
  const out: Record<string, { spec: OptionSpec; key: string; negate: boolean; recipes: string[] }> = {};
  const specOf = (o: RecipeOption, recipes: string[]): OptionSpec => {
    const help = `${o.help} (${recipes.join(', ')})`;
    const base = { group: 'Recipe', help };
    if (o.cli?.negate || o.type === 'boolean') return { ...base, type: 'boolean' };
    if (o.type === 'enum') return { ...base, type: 'enum', choices: o.choices!, defaultText: String(o.default) };
    if (o.type === 'int') return { ...base, type: 'int', ...(o.min !== undefined ? { min: o.min } : {}) };
    if (o.type === 'number') return { ...base, type: 'number', ...(o.min !== undefined ? { min: o.min } : {}) };
    throw new Error(`recipe option ${o.key}: type ${o.type} has no command-line form`);
  };
  for (const r of allRecipes())
    for (const o of r.options) {
      if (!o.cli) continue;
      const known = out[o.cli.flag];
      if (known) {
        if (known.key !== o.key)
          throw new Error(`recipe flag --${o.cli.flag} names two options (${known.key}, ${o.key})`);
        known.recipes.push(r.name);
      } else out[o.cli.flag] = { spec: specOf(o, [r.name]), key: o.key, negate: !!o.cli.negate, recipes: [r.name] };
    }
  for (const [, f] of Object.entries(out))
    f.spec = { ...f.spec, help: f.spec.help.replace(/\([^()]*\)$/, `(${f.recipes.join(', ')})`) };
  return out;
}
const RECIPE_FLAGS = recipeFlags();

/** The option's value in each preset, for the help page: "paper constant, tandem linear". */
function byPreset(key: keyof OptimisationPreset, show: (v: unknown) => string = String): string {
  return PRESET_NAMES.map((p) => `${p} ${show(PRESETS[p][key])}`).join(', ');
}

const METRICS = [...new Set<string>([...REPORT_METRICS, ...MULTILABEL_REPORT_METRICS])];

export const TRAIN = defineCommand({
  name: 'train',
  usage: [
    'tandem train --data <file|dir> --out runs/NAME (--model <dir|Hub id> | --text-model <..> --image-model <..>) [options]',
    'tandem train --resume --out runs/NAME',
  ],
  description: `Fine-tunes a multimodal classifier on posts (text, image, label) with cross-entropy plus the auxiliary
image-text contrastive (ITC) and image-text matching (ITM) objectives, as Sánchez Villegas et al. (2024).
Defaults are the paper's: AdamW lr 1e-5, weight decay 2.5e-4 on every parameter, a constant learning rate,
no gradient clipping, no early stopping, dropout 0.05, a = b = 0.1, balanced class weights.
--preset tandem switches to tandem's optimisation choices (warm-up and linear decay, clipping at 1.0, no decay
on biases and LayerNorm, early stopping); options given explicitly override the preset.`,
  options: {
    model: {
      type: 'string',
      group: 'Model',
      placeholder: 'M',
      help: 'one checkpoint: ViLT, LXMERT, CLIP, SigLIP or BLIP (recipe from config.json), or a tandem run checkpoint (runs/NAME/best) to continue fine-tuning',
    },
    'text-model': {
      type: 'string',
      group: 'Model',
      placeholder: 'M',
      help: 'late fusion / MMBT: the text encoder (BERT, RoBERTa, BERTweet, XLM-R)',
    },
    'image-model': {
      type: 'string',
      group: 'Model',
      placeholder: 'M',
      help: 'late fusion / MMBT: the image encoder (ViT, DeiT, CLIP or SigLIP vision)',
    },
    init: {
      type: 'enum',
      choices: ['pretrained', 'random'],
      default: 'pretrained',
      group: 'Model',
      help: 'random: build from the configs only (tiny trial runs; results.json says so)',
    },
    config: {
      type: 'string',
      group: 'Model',
      placeholder: 'FILE.json',
      help: 'with --init random: JSON merged into the recipe config (e.g. tiny sizes: {"text_config": {"num_hidden_layers": 2}})',
    },
    ...RECIPE_OPTIONS,
    ...(Object.fromEntries(Object.entries(RECIPE_FLAGS).map(([flag, f]) => [flag, f.spec])) as Record<
      never,
      OptionSpec
    >),
    data: {
      type: 'string',
      group: 'Data',
      placeholder: 'P',
      help: 'generic JSONL/CSV file (or folder), or a dataset folder with --format',
    },
    format: { type: 'enum', choices: FORMAT_NAMES, default: 'generic', group: 'Data', help: 'the dataset layout' },
    variant: {
      type: 'string',
      group: 'Data',
      placeholder: 'V',
      help: "the dataset's task variant (see `tandem data formats`)",
    },
    'split-seed': {
      type: 'int',
      default: TRAIN_DEFAULTS.splitSeed,
      group: 'Data',
      help: 'seed of the 8:1:1 stratified split when the data has none',
    },
    'on-bad-row': {
      type: 'enum',
      choices: ['error', 'skip'],
      default: 'error',
      group: 'Data',
      help: 'a post with a missing/unreadable image, unknown label or empty text stops the run before training (error) or is left out and counted (skip)',
    },
    'missing-image': {
      type: 'enum',
      choices: ['bad-row', 'blank'],
      default: 'bad-row',
      group: 'Data',
      help: 'posts without an image (text-only posts, missing files): a bad row, or one blank image for all of them, flagged in the data',
    },
    'max-length': {
      type: 'int',
      min: 1,
      group: 'Data',
      help: 'token limit',
      defaultText: `${PAPER.maxLength} (40 for ViLT), or the model's limit when smaller`,
    },
    'text-encoding': {
      type: 'string',
      group: 'Data',
      placeholder: 'ENC',
      help: "decode the dataset's text files with ENC",
      defaultText: 'UTF-8, else detected',
    },
    'normalize-tweets': {
      type: 'boolean',
      group: 'Data',
      help: "BERTweet's normalisation as the paper's code (see tandem normalize)",
    },
    aux: {
      type: 'list',
      choices: ['itc', 'itm', 'none'],
      default: ['itc', 'itm'],
      group: 'Objectives',
      help: 'auxiliary tasks: itc, itm, itc,itm or none (default none for the one-modality recipes text-only and image-only, which cannot take them)',
    },
    'itc-weight': { type: 'number', default: PAPER.itcWeight, min: 0, group: 'Objectives', help: 'weight a of ITC' },
    'itm-weight': { type: 'number', default: PAPER.itmWeight, min: 0, group: 'Objectives', help: 'weight b of ITM' },
    'loss-weights': {
      type: 'enum',
      choices: ['convex', 'free'],
      default: PAPER.lossWeights,
      group: 'Objectives',
      help: "(1-a-b)·CE + a·ITC + b·ITM (convex, the paper's) or CE + a·ITC + b·ITM (free)",
    },
    'itm-negatives': {
      type: 'enum',
      choices: ['random', 'hard'],
      default: 'random',
      group: 'Objectives',
      help: "random in-batch texts (the paper's) or hard ones drawn by ITC similarity (ALBEF)",
    },
    'itc-queue': {
      type: 'int',
      default: TRAIN_DEFAULTS.itcQueueSize,
      min: 0,
      group: 'Objectives',
      help: 'keep N recent embeddings as extra ITC negatives (0: off)',
    },
    'class-weights': {
      type: 'enum',
      choices: ['balanced', 'none'],
      default: PAPER.classWeights,
      group: 'Objectives',
      help: 'cross-entropy class weights: n / (k·count) or none',
    },
    preset: {
      type: 'enum',
      choices: PRESET_NAMES,
      default: DEFAULT_PRESET,
      group: 'Optimisation',
      help: "paper: the paper's code (constant lr, no clipping, decay on every parameter, no early stopping); tandem: linear warm-up 10% and decay, clipping at 1.0, no decay on biases/LayerNorm, patience 3",
    },
    epochs: {
      type: 'int',
      default: TRAIN_DEFAULTS.epochs,
      min: 1,
      group: 'Optimisation',
      help: 'passes over the training split',
    },
    steps: {
      type: 'int',
      min: 1,
      group: 'Optimisation',
      help: 'stop after N optimiser steps (when fewer than --epochs take)',
    },
    'batch-size': {
      type: 'int',
      default: PAPER.batchSize,
      min: 1,
      group: 'Optimisation',
      help: 'posts per optimiser step',
    },
    'eval-batch-size': {
      type: 'int',
      min: 1,
      group: 'Optimisation',
      help: 'posts per evaluation batch',
      defaultText: 'twice --batch-size',
    },
    'grad-accum': {
      type: 'int',
      default: TRAIN_DEFAULTS.gradAccumulation,
      min: 1,
      group: 'Optimisation',
      help: 'micro-batches of --batch-size accumulated per optimiser step',
    },
    lr: { type: 'number', default: PAPER.lr, min: 0, group: 'Optimisation', help: 'AdamW learning rate' },
    'weight-decay': {
      type: 'number',
      default: PAPER.weightDecay,
      min: 0,
      group: 'Optimisation',
      help: 'AdamW weight decay',
    },
    schedule: {
      type: 'enum',
      choices: ['constant', 'linear', 'cosine'],
      group: 'Optimisation',
      help: 'learning-rate schedule after the warm-up',
      defaultText: byPreset('schedule'),
    },
    'warmup-ratio': {
      type: 'number',
      min: 0,
      max: 1,
      group: 'Optimisation',
      help: 'fraction of the steps warming the learning rate up from 0',
      defaultText: byPreset('warmupRatio'),
    },
    'max-grad-norm': {
      type: 'number',
      min: 0,
      group: 'Optimisation',
      help: 'clip the gradient norm to X (0: off)',
      defaultText: byPreset('maxGradNorm', (v) => (v === null ? 'off' : String(v))),
    },
    'decay-exempt': {
      type: 'enum',
      choices: DECAY_EXEMPT,
      group: 'Optimisation',
      help: 'parameters without weight decay: none (every parameter decays) or bias-norm (biases and LayerNorm weights)',
      defaultText: byPreset('decayExempt'),
    },
    dropout: {
      type: 'number',
      min: 0,
      max: 1,
      group: 'Optimisation',
      help: 'dropout before the heads',
      defaultText: String(PAPER.dropout),
    },
    seed: {
      type: 'int',
      default: TRAIN_DEFAULTS.seed,
      group: 'Optimisation',
      help: 'random seed (initialisation, shuffling, ITM negatives)',
    },
    out: {
      type: 'string',
      group: 'Run',
      placeholder: 'DIR',
      help: 'run folder: run.json, log.jsonl, checkpoints/, best, last, results.json',
    },
    metric: {
      type: 'enum',
      choices: METRICS,
      default: TRAIN_DEFAULTS.metric,
      group: 'Run',
      help: 'dev metric that picks the best checkpoint (and early stopping)',
    },
    patience: {
      type: 'int',
      min: 0,
      group: 'Run',
      help: 'epochs without dev improvement before stopping (0: never)',
      defaultText: byPreset('patience'),
    },
    'save-every': {
      type: 'int',
      default: TRAIN_DEFAULTS.saveEvery,
      min: 0,
      group: 'Run',
      help: 'also save a resumable checkpoint every N steps (0: at epoch ends only)',
    },
    resume: {
      type: 'boolean',
      group: 'Run',
      help: 'continue the run in --out from its last checkpoint (settings from run.json)',
    },
    overwrite: {
      type: 'boolean',
      group: 'Run',
      help: 'delete what --out holds and start a new run there (without it, a folder holding files is refused)',
    },
    device: deviceOption('cpu or cuda[:N] (under a launcher, cuda takes cuda:LOCAL_RANK)', 'Run'),
    precision: precisionOption(
      "fp32 (the paper's arithmetic), bf16 (autocast; fast on AVX512-BF16/AMX CPUs and recent GPUs) or fp16 (CUDA, loss scaling)",
      'Run',
    ),
    'nproc-per-node': {
      type: 'int',
      default: 1,
      min: 1,
      group: 'Run',
      help: 'data parallelism: start N processes here (as torchrun does); under torchrun or SLURM (RANK/WORLD_SIZE or SLURM_PROCID/SLURM_NTASKS set) each process is a rank',
    },
    'dist-backend': {
      type: 'enum',
      choices: ['gloo', 'nccl'],
      group: 'Run',
      defaultText: 'nccl on cuda, gloo on cpu',
      help: "data parallelism's c10d backend; gloo lets processes share a GPU (NCCL needs one GPU per process)",
    },
    'dist-timeout': {
      type: 'number',
      default: 300,
      min: 1,
      group: 'Run',
      help: 'seconds a rendezvous or collective may wait for a lost peer',
    },
    workers: {
      type: 'int',
      min: 0,
      group: 'Run',
      help: 'image decoding threads (0: decode inline)',
      defaultText: 'min(2, cores)',
    },
    'feature-cache': {
      type: 'string',
      group: 'Run',
      placeholder: 'DIR',
      help: 'cache frozen image-encoder outputs on disk',
    },
    json: { type: 'boolean', group: 'Run', help: 'print results as JSON' },
    'no-progress': { type: 'boolean', group: 'Run', help: 'no progress bar' },
  },
  footer: `Ctrl-C (SIGINT), SIGTERM and SIGHUP stop after the current step, save a resumable checkpoint, print the
command that continues the run and exit with 130, 143 and 129. Exit codes: 0 done, 1 failure, 2 bad input.`,
});

export const specs = [TRAIN];

/** What may accompany --resume: the run folder and how to show progress, nothing that changes the run. */
const RESUME_FLAGS = new Set([
  'resume',
  'out',
  'json',
  'no-progress',
  'nproc-per-node',
  'dist-timeout',
  'dist-backend',
]);

type Values = ParsedValues<typeof TRAIN.options>;

async function folder(flag: string, v: string | undefined): Promise<string | undefined> {
  if (v === undefined) return undefined;
  if (existsSync(v)) return resolve(v);
  if (!isRepoId(v)) throw new CliError(`--${flag} ${v}: no such folder (and not a Hub model id)`);
  try {
    return await resolveModelFolder(v);
  } catch (e) {
    throw new CliError(`--${flag} ${v}: ${(e as Error).message}`, EXIT.failure);
  }
}

/** The spec options the recipe flags give; a flag the recipe does not declare is a usage error naming it. */
function recipeOptionsFromFlags(recipe: string, values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [flag, f] of Object.entries(RECIPE_FLAGS)) {
    const v = values[flag];
    if (v === undefined || v === false) continue;
    if (!f.recipes.includes(recipe))
      throw new CliError(`--${flag} does not apply to recipe ${recipe} (it is for: ${f.recipes.join(', ')})`);
    out[f.key] = f.negate ? !v : v;
  }
  return out;
}

/**
 * Turns parsed flags into an experiment config: the optimisation preset, with options given explicitly on top.
 * `given` (the flags on the command line) lets a one-modality recipe default to no auxiliary objectives; an
 * --aux given explicitly is kept, and refused by the experiment when the recipe cannot take it.
 */
export async function configFromFlags(v: Values, given: ReadonlySet<string> = new Set()): Promise<ExperimentConfig> {
  if (!v.data) throw new CliError('--data is required');
  if (!v.out) throw new CliError('--out is required');
  const device = deviceFlag(v.device);
  const model = await folder('model', v.model);
  const textModel = await folder('text-model', v['text-model']);
  const imageModel = await folder('image-model', v['image-model']);
  let recipe: RecipeName | undefined = v.recipe;
  let fromCheckpoint: string | undefined;
  if (!recipe) {
    if (textModel || imageModel) recipe = 'late-fusion';
    else if (model) {
      const cfg = readModelConfig(model);
      const mt = String(cfg.model_type ?? '');
      if (mt === 'tandem') fromCheckpoint = model;
      else {
        recipe = recipeForModelType(mt)?.name;
        if (!recipe)
          throw new CliError(
            `--model ${model}: model_type '${mt}' is not a single-checkpoint recipe (${singleCheckpointModelTypes().join(', ')}); give --text-model and --image-model for late fusion`,
          );
      }
    } else throw new CliError('give --model, or --text-model and --image-model');
  }
  let configOverrides: Record<string, unknown> | undefined;
  if (v.config) {
    if (v.init !== 'random') throw new CliError('--config applies with --init random');
    try {
      configOverrides = JSON.parse(readFileSync(v.config, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new CliError(`--config ${v.config}: ${(e as Error).message}`);
    }
  }
  const recipeName = fromCheckpoint ? readRecipeConfig(fromCheckpoint).recipe : (recipe ?? 'late-fusion');
  const oneModality = recipeNamed(recipeName).modalities.length < 2;
  const aux = oneModality && !given.has('aux') ? [] : v.aux;
  const optimisation = resolvePreset(v.preset, {
    schedule: v.schedule,
    warmupRatio: v['warmup-ratio'],
    // 0 turns clipping off, also against a preset that clips.
    maxGradNorm: v['max-grad-norm'] === undefined ? undefined : v['max-grad-norm'] > 0 ? v['max-grad-norm'] : null,
    decayExempt: v['decay-exempt'],
    patience: v.patience,
  });
  return {
    preset: v.preset,
    spec: {
      recipe: recipe ?? 'late-fusion',
      ...(model && !fromCheckpoint ? { model } : {}),
      ...(textModel ? { textModel } : {}),
      ...(imageModel ? { imageModel } : {}),
      ...recipeOptionsFromFlags(recipe ?? 'late-fusion', v as Record<string, unknown>),
      ...(v.dropout !== undefined ? { dropout: v.dropout } : {}),
      ...(v.head ? { head: v.head } : {}),
      numLabels: 0,
      labelNames: [],
    },
    ...(fromCheckpoint ? { fromCheckpoint } : {}),
    init: v.init,
    ...(configOverrides ? { configOverrides } : {}),
    data: {
      path: resolve(v.data),
      format: v.format,
      ...(v.variant ? { variant: v.variant } : {}),
      splitSeed: v['split-seed'],
      ...(v['text-encoding'] ? { textEncoding: encodingFlag(v['text-encoding']) } : {}),
    },
    out: resolve(v.out),
    epochs: v.epochs,
    ...(v.steps !== undefined ? { maxSteps: v.steps } : {}),
    batchSize: v['batch-size'],
    ...(v['eval-batch-size'] !== undefined ? { evalBatchSize: v['eval-batch-size'] } : {}),
    lr: v.lr,
    weightDecay: v['weight-decay'],
    ...optimisation,
    gradAccumulation: v['grad-accum'],
    seed: v.seed,
    aux: { itc: aux.includes('itc'), itm: aux.includes('itm') },
    weights: { itc: v['itc-weight'], itm: v['itm-weight'], mode: v['loss-weights'] },
    itmNegatives: v['itm-negatives'],
    itcQueueSize: v['itc-queue'],
    classWeights: v['class-weights'],
    metric: v.metric,
    saveEvery: v['save-every'],
    maxLength: v['max-length'],
    tweetNormalize: v['normalize-tweets'],
    onBadRow: v['on-bad-row'],
    missingImage: v['missing-image'],
    ...(v.workers !== undefined ? { workers: v.workers } : {}),
    device,
    featureCache: v['feature-cache'] ? resolve(v['feature-cache']) : null,
    ...(v.precision ? { precision: v.precision } : {}),
  };
}

function summary(r: Record<string, unknown>): string {
  const lines = [`status: ${r.status} after ${r.steps} steps`];
  for (const split of ['dev', 'test'] as const) {
    const m = r[split] as Record<string, number> | null;
    if (m)
      lines.push(
        `${split}: accuracy ${m.accuracy?.toFixed(4)}  f1_macro ${m.f1_macro?.toFixed(4)}  f1_weighted ${m.f1_weighted?.toFixed(4)}`,
      );
  }
  if (r.warning) lines.push(`note: ${r.warning}`);
  return lines.join('\n');
}

/** The flag and its value removed from argv (`--flag V` or `--flag=V`). */
function withoutFlag(argv: string[], flag: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${flag}`) i++;
    else if (!argv[i]!.startsWith(`--${flag}=`)) out.push(argv[i]!);
  }
  return out;
}

/** A path as a POSIX shell reads it back: as it is when it is plain, else single-quoted. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command that continues the run in `out` (with as many processes when this one was launched with N). */
export function resumeCommand(out: string): string {
  const nproc = Number(process.env.TANDEM_NPROC_PER_NODE);
  return `tandem train --resume --out ${shellWord(out)}${nproc > 1 ? ` --nproc-per-node ${nproc}` : ''}`;
}

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(TRAIN, argv);
  if (!a) return EXIT.ok;
  const v = a.values;
  if (process.env.TANDEM_DIST_TIMEOUT === undefined && a.given.has('dist-timeout'))
    process.env.TANDEM_DIST_TIMEOUT = String(v['dist-timeout']);
  const group = processGroupFromEnv();
  // A new run never mixes with what --out holds, checked before anything is read (by the launcher, or by rank 0:
  // the other ranks would see what it has just written).
  if (!v.resume && !v.overwrite && v.out && (group === null || group.rank === 0))
    refuseFilledFolder(resolve(v.out), '--resume to continue the run it holds');
  if (v['nproc-per-node'] > 1) {
    if (group) throw new CliError('--nproc-per-node: this process already runs under a launcher (RANK/WORLD_SIZE set)');
    if (v.device?.startsWith('cuda')) rankDevice(v['nproc-per-node'] - 1, v['dist-backend'] ?? 'nccl'); // before any start
    const { launchLocal } = await import('../launch.js');
    return launchLocal(v['nproc-per-node'], ['train', ...withoutFlag(argv, 'nproc-per-node')], {
      timeoutSeconds: v['dist-timeout'],
      log: (m) => process.stderr.write(`tandem train: ${m}\n`),
    });
  }
  let cfg: ExperimentConfig;
  if (v.resume) {
    if (!v.out) throw new CliError('--resume needs --out (the run folder)');
    const changed = [...a.given].filter((f) => !RESUME_FLAGS.has(f));
    if (changed.length)
      throw new CliError(
        `--resume continues with the settings in ${v.out}/run.json; it does not take ${changed.map((f) => `--${f}`).join(', ')}`,
      );
    try {
      cfg = readRunConfig(resolve(v.out));
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  } else cfg = await configFromFlags(v, a.given);
  let parallel: DataParallel | null = null;
  if (group) {
    const backend = v['dist-backend'] ?? (cfg.device.startsWith('cuda') ? 'nccl' : 'gloo');
    if (cfg.device.startsWith('cuda')) cfg = { ...cfg, device: rankDevice(group.localRank, backend) };
    parallel = new DataParallel(ProcessGroup.init({ ...group, backend }, cfg.device));
    if (group.rank === 0)
      process.stderr.write(
        `data parallel: ${group.worldSize} processes (${parallel.pg.backend}), global batch ${cfg.batchSize * group.worldSize} (${cfg.batchSize} per process)\n`,
      );
  }
  let result;
  try {
    result = await runExperiment(cfg, {
      resume: v.resume ?? false,
      overwrite: v.overwrite ?? false,
      progress: !(v['no-progress'] ?? false),
      log: (m) => process.stderr.write(m + '\n'),
      parallel,
    });
  } catch (e) {
    if (e instanceof DataError || e instanceof MaxLengthError) throw new CliError(e.message, EXIT.usage);
    throw e;
  } finally {
    parallel?.pg.destroy();
  }
  const stopped = result.status === 'interrupted' ? signalExitCode(result.signal ?? 'SIGINT') : null;
  if (parallel && !parallel.isMain) return stopped ?? EXIT.ok;
  if (v.json) console.log(JSON.stringify(result.results, null, 2));
  else console.log(summary(result.results));
  if (stopped !== null) {
    process.stderr.write(
      `tandem train: ${result.signal ?? 'SIGINT'}: stopped at step ${result.steps} with a resumable checkpoint; continue with:\n  ${resumeCommand(cfg.out)}\n`,
    );
    return stopped;
  }
  return EXIT.ok;
}

/**
 * The GPU of the process with this local rank: its own (cuda:LOCAL_RANK), or with Gloo, where processes may
 * share one, cuda:(LOCAL_RANK mod GPUs). NCCL refuses two processes on one GPU, so that is a usage error.
 */
function rankDevice(localRank: number, backend: 'gloo' | 'nccl'): Device {
  const gpus = cudaDeviceCount();
  if (gpus === 0) throw new CliError('--device cuda: no GPU is visible here');
  if (localRank < gpus) return `cuda:${localRank}`;
  if (backend === 'gloo') return `cuda:${localRank % gpus}`;
  throw new CliError(
    `--device cuda: local rank ${localRank} has no GPU of its own (${gpus} here) and NCCL needs one per process; start at most ${gpus} per machine, or add --dist-backend gloo to let processes share GPUs`,
  );
}
