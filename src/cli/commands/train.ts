// `tandem train`: fine-tune a classifier on posts with cross-entropy and the ITC / ITM auxiliary objectives.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isRepoId, resolveModelFolder } from '../../io/hub.js';
import { readModelConfig } from '../../io/model-folder.js';
import { RECIPES, type RecipeName } from '../../multimodal/builder.js';
import { FORMAT_NAMES } from '../../data/formats/index.js';
import { DataError } from '../../data/rows.js';
import { runExperiment, readRunConfig, type ExperimentConfig } from '../../train/experiment.js';
import { CliError, EXIT, intFlag, numFlag, parse, precisionFlag } from '../args.js';

const HELP = `Usage: tandem train --data <file|dir> --out runs/NAME (--model <dir|Hub id> | --text-model <..> --image-model <..>) [options]
       tandem train --resume --out runs/NAME

Fine-tunes a multimodal classifier on posts (text, image, label) with cross-entropy plus the auxiliary
image-text contrastive (ITC) and image-text matching (ITM) objectives, as Sánchez Villegas et al. (2024).
Defaults are the paper's: AdamW lr 1e-5, weight decay 2.5e-4, dropout 0.05, a = b = 0.1, balanced class weights.

Model:
  --model M                 one checkpoint: ViLT, LXMERT, CLIP, SigLIP or BLIP (recipe from config.json), or a
                            tandem run checkpoint (runs/NAME/best) to continue fine-tuning
  --text-model M            late fusion / MMBT: the text encoder (BERT, RoBERTa, BERTweet, XLM-R)
  --image-model M           late fusion / MMBT: the image encoder (ViT, DeiT, CLIP or SigLIP vision)
  --recipe R                ${RECIPES.join(', ')} (default: late-fusion with --text-model, else from --model)
  --fusion F                concat, attention or gmu (late fusion; default concat)
  --train-image-encoder     train the image encoder too (default: frozen, the paper's setting)
  --head linear|mlp         classifier and ITM heads: linear (default, the paper's) or a small MLP (reads
                            text-image interactions out of concat fusion)
  --init pretrained|random  random: build from the configs only (tiny trial runs; says so in results.json)
  --config FILE.json        with --init random: JSON merged into the recipe config (e.g. tiny sizes:
                            {"text_config": {"num_hidden_layers": 2}})
Data:
  --data P                  generic JSONL/CSV file (or folder), or a dataset folder with --format
  --format F                ${FORMAT_NAMES.join(', ')} (default generic)
  --variant V               the dataset's task variant (see \`tandem data formats\`)
  --split-seed N            seed of the 8:1:1 stratified split when the data has none (default 42)
  --on-bad-row error|skip   a post with a missing/unreadable image, unknown label or empty text stops the
                            run before training (error, default) or is left out and counted (skip)
  --missing-image bad-row|blank  posts without an image (text-only posts, missing files): a bad row
                            (default) or one blank image for all of them, flagged in the data
  --max-length N            token limit (default 128)
  --normalize-tweets        BERTweet-style normalisation (@USER, HTTPURL)
Objectives:
  --aux LIST                auxiliary tasks: itc, itm, itc,itm or none (default itc,itm)
  --itc-weight A            weight a of ITC (default 0.1)
  --itm-weight B            weight b of ITM (default 0.1)
  --loss-weights convex|free  (1-a-b)·CE + a·ITC + b·ITM (default, the paper) or CE + a·ITC + b·ITM
  --itm-negatives random|hard  random in-batch texts (paper) or hard ones from ITC similarity (ALBEF)
  --itc-queue N             keep N recent embeddings as extra ITC negatives (default 0: off)
  --class-weights balanced|none  (default balanced)
Optimisation:
  --epochs N (10)  --steps N  --batch-size N (16)  --eval-batch-size N  --grad-accum N (1)
  --lr X (1e-5)  --weight-decay X (2.5e-4)  --warmup-ratio X (0.1)  --schedule linear|cosine|constant
  --max-grad-norm X (1.0; 0 = off)  --dropout X (0.05)  --seed N (42)
Run:
  --out DIR                 run folder: run.json, log.jsonl, checkpoints/, best, last, results.json
  --metric NAME             dev metric for the best checkpoint and early stopping (default f1_macro)
  --patience N              epochs without improvement before stopping (default 3; 0 = never)
  --save-every N            also save a resumable checkpoint every N steps (default 0: epoch ends only)
  --resume                  continue the run in --out from its last checkpoint (settings from run.json)
  --device D                cpu (default) or cuda[:N]
  --precision P             fp32 (default), bf16 (autocast; fast on AVX512-BF16/AMX CPUs and recent GPUs) or fp16 (CUDA)
  --workers N               image decoding threads (default min(2, cores))
  --feature-cache DIR       cache frozen image-encoder outputs on disk
  --json                    print results as JSON
  --no-progress             no progress bar

Ctrl-C saves a resumable checkpoint and exits with code 130. Exit codes: 0 done, 1 failure, 2 bad input.`;

const OPTIONS = {
  model: { type: 'string' },
  'text-model': { type: 'string' },
  'image-model': { type: 'string' },
  recipe: { type: 'string' },
  fusion: { type: 'string' },
  'train-image-encoder': { type: 'boolean' },
  head: { type: 'string' },
  init: { type: 'string' },
  config: { type: 'string' },
  data: { type: 'string' },
  format: { type: 'string' },
  variant: { type: 'string' },
  'split-seed': { type: 'string' },
  'on-bad-row': { type: 'string' },
  'missing-image': { type: 'string' },
  'max-length': { type: 'string' },
  'normalize-tweets': { type: 'boolean' },
  aux: { type: 'string' },
  'itc-weight': { type: 'string' },
  'itm-weight': { type: 'string' },
  'loss-weights': { type: 'string' },
  'itm-negatives': { type: 'string' },
  'itc-queue': { type: 'string' },
  'class-weights': { type: 'string' },
  epochs: { type: 'string' },
  steps: { type: 'string' },
  'batch-size': { type: 'string' },
  'eval-batch-size': { type: 'string' },
  'grad-accum': { type: 'string' },
  lr: { type: 'string' },
  'weight-decay': { type: 'string' },
  'warmup-ratio': { type: 'string' },
  schedule: { type: 'string' },
  'max-grad-norm': { type: 'string' },
  dropout: { type: 'string' },
  seed: { type: 'string' },
  out: { type: 'string' },
  metric: { type: 'string' },
  patience: { type: 'string' },
  'save-every': { type: 'string' },
  resume: { type: 'boolean' },
  device: { type: 'string' },
  precision: { type: 'string' },
  workers: { type: 'string' },
  'feature-cache': { type: 'string' },
  json: { type: 'boolean' },
  'no-progress': { type: 'boolean' },
} as const;

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

function oneOf<T extends string>(flag: string, v: string | undefined, allowed: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  if (!(allowed as readonly string[]).includes(v))
    throw new CliError(`--${flag} expects one of ${allowed.join(', ')}, got '${v}'`);
  return v as T;
}

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

const RECIPE_OF_MODEL_TYPE: Record<string, RecipeName> = {
  vilt: 'vilt',
  lxmert: 'lxmert',
  clip: 'clip',
  siglip: 'siglip',
  blip: 'blip',
};

/** Turns flags into an experiment config (validating every value). */
export async function configFromFlags(v: Values): Promise<ExperimentConfig> {
  if (!v.data) throw new CliError(`--data is required\n\n${HELP}`);
  if (!v.out) throw new CliError(`--out is required\n\n${HELP}`);
  const model = await folder('model', v.model);
  const textModel = await folder('text-model', v['text-model']);
  const imageModel = await folder('image-model', v['image-model']);
  let recipe = v.recipe as RecipeName | undefined;
  if (recipe !== undefined && !(RECIPES as readonly string[]).includes(recipe))
    throw new CliError(`--recipe expects one of ${RECIPES.join(', ')}, got '${recipe}'`);
  let fromCheckpoint: string | undefined;
  if (!recipe) {
    if (textModel || imageModel) recipe = 'late-fusion';
    else if (model) {
      const cfg = readModelConfig(model);
      const mt = String(cfg.model_type ?? '');
      if (mt === 'tandem') fromCheckpoint = model;
      else {
        recipe = RECIPE_OF_MODEL_TYPE[mt];
        if (!recipe)
          throw new CliError(
            `--model ${model}: model_type '${mt}' is not a single-checkpoint recipe (${Object.keys(RECIPE_OF_MODEL_TYPE).join(', ')}); give --text-model and --image-model for late fusion`,
          );
      }
    } else throw new CliError(`give --model, or --text-model and --image-model\n\n${HELP}`);
  }
  const aux = (v.aux ?? 'itc,itm')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const a of aux)
    if (!['itc', 'itm', 'none'].includes(a))
      throw new CliError(`--aux expects itc, itm, itc,itm or none, got '${v.aux}'`);
  const init = oneOf('init', v.init, ['pretrained', 'random'] as const, 'pretrained');
  let configOverrides: Record<string, unknown> | undefined;
  if (v.config) {
    if (init !== 'random') throw new CliError('--config applies with --init random');
    try {
      configOverrides = JSON.parse(readFileSync(v.config, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new CliError(`--config ${v.config}: ${(e as Error).message}`);
    }
  }
  const maxGrad = numFlag('max-grad-norm', v['max-grad-norm'], 1.0)!;
  const device = v.device ?? 'cpu';
  if (!/^(cpu|cuda(:\d+)?)$/.test(device)) throw new CliError(`--device expects cpu, cuda or cuda:N, got '${device}'`);
  const positive = (name: string, n: number | undefined) => {
    if (n !== undefined && n < 1) throw new CliError(`--${name} must be at least 1, got ${n}`);
    return n;
  };
  return {
    spec: {
      recipe: recipe ?? 'late-fusion',
      ...(model && !fromCheckpoint ? { model } : {}),
      ...(textModel ? { textModel } : {}),
      ...(imageModel ? { imageModel } : {}),
      ...(v.fusion ? { fusion: oneOf('fusion', v.fusion, ['concat', 'attention', 'gmu'] as const, 'concat') } : {}),
      ...(v['train-image-encoder'] ? { freezeImage: false } : {}),
      ...(v.dropout ? { dropout: numFlag('dropout', v.dropout) } : {}),
      ...(v.head ? { head: oneOf('head', v.head, ['linear', 'mlp'] as const, 'linear') } : {}),
      numLabels: 0,
      labelNames: [],
    },
    ...(fromCheckpoint ? { fromCheckpoint } : {}),
    init,
    ...(configOverrides ? { configOverrides } : {}),
    data: {
      path: resolve(v.data),
      format: v.format ?? 'generic',
      ...(v.variant ? { variant: v.variant } : {}),
      ...(v['split-seed'] ? { splitSeed: intFlag('split-seed', v['split-seed']) } : {}),
    },
    out: resolve(v.out),
    epochs: positive('epochs', intFlag('epochs', v.epochs, 10))!,
    ...(v.steps ? { maxSteps: positive('steps', intFlag('steps', v.steps)) } : {}),
    batchSize: positive('batch-size', intFlag('batch-size', v['batch-size'], 16))!,
    ...(v['eval-batch-size']
      ? { evalBatchSize: positive('eval-batch-size', intFlag('eval-batch-size', v['eval-batch-size'])) }
      : {}),
    lr: numFlag('lr', v.lr, 1e-5)!,
    weightDecay: numFlag('weight-decay', v['weight-decay'], 2.5e-4)!,
    warmupRatio: numFlag('warmup-ratio', v['warmup-ratio'], 0.1)!,
    schedule: oneOf('schedule', v.schedule, ['linear', 'cosine', 'constant'] as const, 'linear'),
    maxGradNorm: maxGrad > 0 ? maxGrad : null,
    gradAccumulation: positive('grad-accum', intFlag('grad-accum', v['grad-accum'], 1))!,
    seed: intFlag('seed', v.seed, 42)!,
    aux: { itc: aux.includes('itc'), itm: aux.includes('itm') },
    weights: {
      itc: numFlag('itc-weight', v['itc-weight'], 0.1)!,
      itm: numFlag('itm-weight', v['itm-weight'], 0.1)!,
      mode: oneOf('loss-weights', v['loss-weights'], ['convex', 'free'] as const, 'convex'),
    },
    itmNegatives: oneOf('itm-negatives', v['itm-negatives'], ['random', 'hard'] as const, 'random'),
    itcQueueSize: intFlag('itc-queue', v['itc-queue'], 0)!,
    classWeights: oneOf('class-weights', v['class-weights'], ['balanced', 'none'] as const, 'balanced'),
    metric: v.metric ?? 'f1_macro',
    patience: intFlag('patience', v.patience, 3)!,
    saveEvery: intFlag('save-every', v['save-every'], 0)!,
    maxLength: intFlag('max-length', v['max-length'], 128)!,
    tweetNormalize: v['normalize-tweets'] ?? false,
    onBadRow: oneOf('on-bad-row', v['on-bad-row'], ['error', 'skip'] as const, 'error'),
    missingImage: oneOf('missing-image', v['missing-image'], ['bad-row', 'blank'] as const, 'bad-row'),
    ...(v.workers !== undefined ? { workers: intFlag('workers', v.workers) } : {}),
    device: device as ExperimentConfig['device'],
    ...(v.precision ? { precision: precisionFlag(v.precision) } : {}),
    featureCache: v['feature-cache'] ? resolve(v['feature-cache']) : null,
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

export async function run(argv: string[]): Promise<number> {
  const a = parse(argv, OPTIONS, HELP, false);
  if (!a) return EXIT.ok;
  const v = a.values as Values;
  let cfg: ExperimentConfig;
  if (v.resume) {
    if (!v.out) throw new CliError('--resume needs --out (the run folder)');
    try {
      cfg = readRunConfig(resolve(v.out));
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  } else {
    cfg = await configFromFlags(v);
    if (existsSync(resolve(cfg.out, 'last')))
      throw new CliError(`${cfg.out} already holds a run: pass --resume to continue it, or choose another --out`);
  }
  let result;
  try {
    result = await runExperiment(cfg, {
      resume: v.resume ?? false,
      progress: !(v['no-progress'] ?? false),
      log: (m) => process.stderr.write(m + '\n'),
    });
  } catch (e) {
    if (e instanceof DataError) throw new CliError(e.message, EXIT.usage);
    throw e;
  }
  if (v.json) console.log(JSON.stringify(result.results, null, 2));
  else console.log(summary(result.results));
  if (result.status === 'interrupted') {
    process.stderr.write(
      `interrupted: resumable checkpoint saved; continue with: tandem train --resume --out ${cfg.out}\n`,
    );
    return EXIT.interrupted;
  }
  return EXIT.ok;
}
