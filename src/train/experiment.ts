// One experiment end to end, as the `tandem train` command runs it: data (a generic file or a benchmark in
// its published layout), the classifier recipe, the input pipeline, the trainer, evaluation, results.json.
// The resolved settings are saved as run.json in the run folder, so `--resume` rebuilds exactly the same
// experiment from the folder alone.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';
import { replaceFolder } from '../io/output-folder.js';
import { gitCommit, packageVersion } from '../runtime/package-info.js';
import { loadDataset } from '../data/formats/index.js';
import { normaliseSplit } from '../data/build.js';
import { DataError, type LoadResult, type Row } from '../data/rows.js';
import { formatLeftOut, groupsOf } from '../data/left-out.js';
import { BatchLoader, validateRows, FeatureCache, type BadRowPolicy } from '../data/pipeline/index.js';
import {
  buildClassifier,
  classifierFromConfig,
  hasFrozenImageEncoder,
  loadClassifier,
  readRecipeConfig,
  recipeConfigFor,
  recipesWithFrozenImageEncoder,
  saveClassifier,
  sourceFolderFiles,
  type RecipeSpec,
  type AnyClassifier,
} from '../multimodal/builder.js';
import { resolveMaxLength } from '../multimodal/max-length.js';
import type { Modality, MultimodalClassifier, RecipeConfig } from '../multimodal/types.js';
import { balancedClassWeights } from '../objectives/index.js';
import {
  checkPrecision,
  F,
  fastBf16Reason,
  getNumThreads,
  manualSeed,
  torchVersion,
  noGrad,
  withPrecision,
  type Device,
  type Precision,
} from '../tensor/index.js';
import {
  checkpointInputs,
  fillMissingImages,
  labelPredictions,
  makeEncoder,
  metricsOf,
  predictAll,
  readRunSettings,
  runPaths,
  type InputFolders,
} from '../inference/index.js';
import { Trainer, type BatchSource, type TrainOptions, type TrainResult } from './trainer.js';
import { evaluationShare, gatherPredictions, type DataParallel } from './data-parallel.js';
import { recipeNamed } from '../multimodal/registry.js';
import { PRESETS, type PresetName } from './defaults.js';
import { CountProgress } from '../runtime/progress.js';

/**
 * Everything that defines a run (saved as run.json): the trainer's options (TrainOptions; class weights as a
 * rule rather than numbers) plus the model, the data and the input pipeline.
 */
export interface ExperimentConfig extends Omit<
  TrainOptions,
  'classWeights' | 'multiLabel' | 'progress' | 'precision' | 'device'
> {
  /** fp32 (default), bf16 or fp16 (CUDA) autocast; recorded in run.json and results.json. */
  precision?: Precision;
  /**
   * The optimisation preset the schedule, warm-up, clipping, decay exemptions and patience started from
   * (src/train/defaults.ts); the resolved values are the fields themselves. Absent in runs made before presets.
   */
  preset?: PresetName;
  spec: RecipeSpec;
  /** Continue fine-tuning a tandem run checkpoint (its recipe, weights, tokenizer and processor). */
  fromCheckpoint?: string;
  /** 'pretrained' loads the checkpoints; 'random' builds from the configs (and `configOverrides`) only. */
  init: 'pretrained' | 'random';
  /** Deep-merged into the sub-model configs for --init random (for example tiny sizes). */
  configOverrides?: Record<string, unknown>;
  data: {
    path: string;
    format: string;
    variant?: string;
    splitSeed?: number;
    onMissingImage?: 'drop' | 'keep';
    /** Decode the text files with this encoding instead of detecting it (`--text-encoding`). */
    textEncoding?: string;
  };
  batchSize: number;
  evalBatchSize?: number;
  classWeights: 'balanced' | 'none';
  /**
   * Tokens per text, special tokens included. Undefined: the paper's 128 (40 for ViLT) or the model's limit
   * when smaller (resolveMaxLength); runExperiment saves the resolved number in run.json.
   */
  maxLength?: number;
  tweetNormalize: boolean;
  onBadRow: BadRowPolicy;
  /**
   * Posts without an image (a missing file, or text-only posts such as MSD's): 'bad-row' (default) applies
   * onBadRow; 'blank' gives them one blank (black) image, flagged `extra.image_missing`, so that text-only
   * posts train. They then share one image key, so ITC treats them as duplicates rather than negatives.
   */
  missingImage?: 'bad-row' | 'blank';
  workers?: number;
  device: Device;
  featureCache?: string | null;
}

export interface ExperimentData {
  rows: { train: Row[]; dev: Row[]; test: Row[] };
  labelNames: string[];
  multiLabel: boolean;
  /** Lines of the data file left out under --on-bad-row skip (before any split is known): 'malformed-line'. */
  badRows: Record<string, number>;
  /** Posts the format's own rules left out (duplicate ids, no majority label, ...). */
  dropped: Record<string, number>;
  /** The first few of each, by reason. */
  leftOut: LoadResult['leftOut'];
  notes: string[];
}

/** Reads the data and splits it; label names are the sorted labels of the training split. */
export function loadExperimentData(cfg: ExperimentConfig['data'], onBadRow: BadRowPolicy = 'error'): ExperimentData {
  const res = loadDataset(cfg.format, resolve(cfg.path), {
    onMalformedLine: onBadRow,
    ...(cfg.variant ? { variant: cfg.variant } : {}),
    ...(cfg.splitSeed !== undefined ? { splitSeed: cfg.splitSeed } : {}),
    // Posts whose image is missing are kept here so that the bad-row policy (error or skip) decides.
    onMissingImage: cfg.onMissingImage ?? 'keep',
    ...(cfg.textEncoding ? { textEncoding: cfg.textEncoding } : {}),
  });
  const rows = { train: [] as Row[], dev: [] as Row[], test: [] as Row[] };
  for (const r of res.rows) {
    const s = r.split === undefined ? undefined : normaliseSplit(r.split);
    if (s === 'train' || s === 'dev' || s === 'test') rows[s].push(r);
  }
  if (rows.train.length === 0) throw new Error(`${cfg.path}: no training posts (split 'train')`);
  const multiLabel = rows.train.some((r) => Array.isArray(r.labels));
  const names = new Set<string>();
  for (const r of rows.train)
    for (const l of multiLabel ? (r.labels ?? []) : r.label !== undefined ? [r.label] : []) names.add(l);
  const labelNames = res.classNames?.filter((n) => names.has(n)) ?? [...names].sort();
  if (labelNames.length < 2 && !multiLabel)
    throw new Error(
      `${cfg.path}: the training split has ${labelNames.length} label(s); a classifier needs at least two`,
    );
  return {
    rows,
    labelNames,
    multiLabel,
    badRows: res.badRows,
    dropped: res.dropped,
    leftOut: res.leftOut,
    notes: res.notes,
  };
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
        ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** The recipe config of an experiment (the checkpoint's, or the spec's with the config overrides), for its limits. */
export function experimentRecipeConfig(cfg: ExperimentConfig): RecipeConfig {
  if (cfg.fromCheckpoint) return readRecipeConfig(cfg.fromCheckpoint);
  const rc = recipeConfigFor(cfg.spec);
  return cfg.init === 'random' ? (deepMerge(rc, cfg.configOverrides ?? {}) as RecipeConfig) : rc;
}

/** Builds the classifier of an experiment. */
export function buildExperimentModel(
  cfg: ExperimentConfig,
  labelNames: string[],
  multiLabel: boolean,
): AnyClassifier & MultimodalClassifier {
  if (cfg.fromCheckpoint) {
    const m = loadClassifier(cfg.fromCheckpoint);
    const saved = m.recipeConfig().labelNames;
    if (saved.join('\u0000') !== labelNames.join('\u0000')) {
      m.dispose();
      throw new Error(
        `${cfg.fromCheckpoint} was trained on labels [${saved.join(', ')}] but the data has [${labelNames.join(', ')}]`,
      );
    }
    return m;
  }
  const spec: RecipeSpec = { ...cfg.spec, numLabels: labelNames.length, labelNames, multiLabel };
  if (cfg.init === 'pretrained') return buildClassifier(spec, { init: 'pretrained' });
  const rc = deepMerge(recipeConfigFor(spec), cfg.configOverrides ?? {}) as RecipeConfig;
  return classifierFromConfig(rc, `recipe "${spec.recipe}" (random init)`) as AnyClassifier & MultimodalClassifier;
}

/**
 * The tokenizer / processor folders of a spec, for what its recipe reads (null for a modality it does not:
 * a text-only baseline has no image processor, and needs none).
 */
export function inputFolders(spec: Pick<RecipeSpec, 'textModel' | 'imageModel' | 'model' | 'recipe'>): InputFolders {
  const reads = recipeNamed(spec.recipe).modalities;
  const folder = (modality: Modality, dir: string | undefined, flags: string): string | null => {
    if (!reads.includes(modality)) return null;
    if (!dir)
      throw new Error(
        `recipe "${spec.recipe}" reads the ${modality} of each post but has no model folder for its ${modality === 'text' ? 'tokenizer' : 'image processor'} (${flags})`,
      );
    return dir;
  };
  return {
    text: folder('text', spec.textModel ?? spec.model, 'textModel or model'),
    image: folder('image', spec.imageModel ?? spec.model, 'imageModel or model'),
  };
}

export interface ExperimentResult extends TrainResult {
  results: Record<string, unknown>;
}

/**
 * Writes one JSON line per post: id, gold (class name; multi-label: names), predicted (the same) and the
 * probability of every class, so that runs can be compared and analysed without loading the model again.
 */
export function writePredictions(
  path: string,
  pred: { ids: string[]; probs: number[][]; truth: number[][] | number[] | null; similarity?: number[] },
  labelNames: string[],
  multiLabel: boolean,
): void {
  const labelled = labelPredictions(pred, labelNames, multiLabel);
  const gold = (i: number): string | string[] | null => {
    if (!pred.truth) return null;
    const t = pred.truth[i]!;
    return Array.isArray(t) ? labelNames.filter((_, k) => t[k]! >= 0.5) : labelNames[t]!;
  };
  const lines = labelled.map((p, i) =>
    JSON.stringify({
      id: p.id,
      gold: gold(i),
      predicted: p.label,
      probabilities: p.probabilities,
      ...(pred.similarity ? { similarity: pred.similarity[i] } : {}),
    }),
  );
  writeFileAtomic(path, lines.join('\n') + (lines.length ? '\n' : ''));
}

/**
 * The model seen through a proxy whose `encode` also records each post's cosine of its ITC text and image
 * embeddings (studies slice posts by it); everything else goes to the model itself.
 */
function recordingSimilarity<M extends MultimodalClassifier>(model: M, sims: number[]): M {
  return new Proxy(model, {
    get(target, prop) {
      if (prop === 'encode')
        return (batch: Parameters<M['encode']>[0]) => {
          const out = target.encode(batch);
          // embeddings of different widths have no cosine: no similarity saved (one-modality models never get here)
          const [t, v] = [
            out.textEmbeds as typeof out.textEmbeds | undefined,
            out.imageEmbeds as typeof out.imageEmbeds | undefined,
          ];
          if (t && v && t.shape.length === 2 && t.shape.join() === v.shape.join()) {
            const cos = F.normalize(t.float(), { dim: 1 })
              .mul(F.normalize(v.float(), { dim: 1 }))
              .sum(1);
            sims.push(...cos.toArray());
          }
          return out;
        };
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/**
 * Runs an experiment (or resumes it when `resume` and the run folder has a checkpoint). Writes run.json,
 * log.jsonl, checkpoints, `best`, `last` and results.json into cfg.out.
 */
export async function runExperiment(
  cfg: ExperimentConfig,
  opts: {
    resume?: boolean;
    /** Empty the run folder first (after the checks on the settings, so that a refused run deletes nothing). */
    overwrite?: boolean;
    progress?: boolean;
    log?: (msg: string) => void;
    /** Data parallelism: this process is one rank; rank 0 writes the run folder. */
    parallel?: DataParallel | null;
  } = {},
): Promise<ExperimentResult> {
  const dp = opts.parallel ?? null;
  const main = dp?.isMain ?? true;
  const log = main ? (opts.log ?? (() => undefined)) : () => undefined;
  checkObjectives(cfg);
  // The text length first: a --max-length the model cannot take is refused before any data is read.
  const recipeCfg = experimentRecipeConfig(cfg);
  const length = resolveMaxLength(recipeCfg, cfg.maxLength);
  checkFeatureCache(cfg, recipeCfg);
  // what the recipe reads of each post: the encoder loads only those preprocessors and opens only those inputs
  const modalities = recipeNamed(recipeCfg.recipe).modalities;
  log(length.note);
  cfg = { ...cfg, maxLength: length.maxLength };
  const precision = cfg.precision ?? 'fp32';
  checkPrecision(precision, cfg.device);
  noteFastBf16(precision, cfg.device, log);
  if (main && opts.overwrite && !opts.resume) replaceFolder(cfg.out);
  mkdirSync(cfg.out, { recursive: true });
  const runFile = runPaths(cfg.out).settings;
  if (main && (!opts.resume || !existsSync(runFile)))
    writeFileAtomic(
      runFile,
      JSON.stringify(
        { ...cfg, ...(dp ? { worldSize: dp.worldSize } : {}), environment: runEnvironment(cfg.device, precision) },
        null,
        2,
      ) + '\n',
    );
  const data = loadExperimentData(cfg.data, cfg.onBadRow);
  // rank 0 writes the blank image, the others use it once it is complete
  if (dp && !main) dp.pg.barrier();
  const blankImages =
    cfg.missingImage === 'blank' && modalities.includes('image')
      ? await fillMissingImages([...data.rows.train, ...data.rows.dev, ...data.rows.test], runPaths(cfg.out).blankImage)
      : 0;
  if (dp && main) dp.pg.barrier();
  const folders = cfg.fromCheckpoint ? checkpointInputs(cfg.fromCheckpoint, modalities) : inputFolders(cfg.spec);
  const encoder = makeEncoder(folders, data.labelNames, data.multiLabel, {
    ...cfg,
    maxLength: length.maxLength,
  });
  const checked = {
    train: validateRows(data.rows.train, encoder, { onBadRow: cfg.onBadRow }),
    dev: validateRows(data.rows.dev, encoder, { onBadRow: cfg.onBadRow }),
    test: validateRows(data.rows.test, encoder, { onBadRow: cfg.onBadRow }),
  };
  // What the data lost is said before the first step, whatever --no-progress says (and again at the end if
  // decoding found more).
  for (const line of [
    ...formatLeftOut(`${cfg.data.path}: lines left out (--on-bad-row skip)`, groupsOf(data.badRows, data.leftOut)),
    ...formatLeftOut(
      `${cfg.data.path}: posts dropped by the ${cfg.data.format} format's rules`,
      groupsOf(data.dropped, data.leftOut),
    ),
    ...(['train', 'dev', 'test'] as const).flatMap((split) =>
      formatLeftOut(`${split} split: bad rows skipped (--on-bad-row skip)`, checked[split].log.groups()),
    ),
  ])
    log(line);
  // Seeded before the model is built, so that random initialisation (and with it the whole run) repeats.
  manualSeed(cfg.seed);
  const model = buildExperimentModel(cfg, data.labelNames, data.multiLabel);
  if (cfg.device !== 'cpu') model.to(cfg.device);
  // The frozen image encoder's features, computed as the uncached forward pass would compute them (the run's
  // precision and device) and kept in the dtype they come out in, so that a run reads from its cache exactly
  // what it would have computed; the cache key names that precision and device kind (featureCacheKey).
  // Both run the encoder on chunks of --batch-size images (the last one padded: frozen-chunks.ts), so an
  // image's features are the same bits whether it was computed with its training batch, with the missing
  // images of a partly cached batch, or with an evaluation batch.
  if (model.frozenImageFeatures) model.setFrozenImageChunk(cfg.batchSize);
  const frozen =
    model.frozenImageFeatures && model.frozenImageKey
      ? {
          key: featureCacheKey(model.frozenImageKey, encoder.processorHash, precision, cfg.device, cfg.batchSize),
          compute: (px: Parameters<NonNullable<typeof model.frozenImageFeatures>>[0]) =>
            noGrad(() => withPrecision(precision, cfg.device, () => model.frozenImageFeatures!(px))),
        }
      : undefined;
  const features =
    frozen && cfg.featureCache
      ? { cache: new FeatureCache(resolve(cfg.featureCache), frozen.key), compute: frozen.compute }
      : undefined;
  // Without a feature cache, the frozen image encoder's dev and test features are still computed only once
  // per run (not at every epoch's evaluation): in a cache inside the run folder, removed when the run ends.
  const evalFeatureDir = join(cfg.out, 'eval-features');
  const evalFeatures =
    features ?? (frozen ? { cache: new FeatureCache(evalFeatureDir, frozen.key), compute: frozen.compute } : undefined);
  const splitFeatures = (split: 'train' | 'dev' | 'test') => (split === 'train' ? features : evalFeatures);
  const loader = (rows: Row[], split: 'train' | 'dev' | 'test') =>
    new BatchLoader(rows, encoder, {
      batchSize: split === 'train' ? cfg.batchSize * (dp?.worldSize ?? 1) : (cfg.evalBatchSize ?? cfg.batchSize * 2),
      ...(dp && split === 'train' ? { shard: { rank: dp.rank, worldSize: dp.worldSize } } : {}),
      seed: cfg.seed,
      shuffle: split === 'train',
      onBadRow: cfg.onBadRow,
      preflight: checked[split].log,
      device: cfg.device,
      ...(cfg.workers !== undefined ? { workers: cfg.workers } : {}),
      ...(splitFeatures(split) ? { features: splitFeatures(split) } : {}),
    });
  const trainLoader = loader(checked.train.rows, 'train');
  const source: BatchSource = {
    batchesPerEpoch: () => trainLoader.numBatches,
    batches: (epoch, start) => {
      trainLoader.restore({ epoch, position: start });
      return trainLoader.epoch(epoch);
    },
    position: () => trainLoader.state().position,
  };
  // The tokenizer and processor files travel with every checkpoint, so that it is usable on its own.
  const extraFiles = sourceFolderFiles(
    cfg.fromCheckpoint
      ? { ...cfg.spec, model: cfg.fromCheckpoint, textModel: undefined, imageModel: undefined }
      : cfg.spec,
  );
  const trainLabels = data.multiLabel ? [] : checked.train.rows.map((r) => data.labelNames.indexOf(r.label!));
  // Predictions of every evaluation by the step it ran at: the run saves those of its best checkpoint (dev:
  // the evaluation that chose it, which the end of the run reuses; test: the final one).
  type SavedPredictions = Awaited<ReturnType<typeof predictAll>> & { similarity?: number[] };
  const devByStep = new Map<number, SavedPredictions>();
  let lastTest: SavedPredictions | undefined;
  const trainer = new Trainer(
    model,
    source,
    {
      ...cfg,
      classWeights:
        cfg.classWeights === 'balanced' && !data.multiLabel
          ? balancedClassWeights(trainLabels, data.labelNames.length)
          : null,
      multiLabel: data.multiLabel,
      progress: main && (opts.progress ?? false),
    },
    {
      saveModel: (dir) => saveClassifier(dir, model, extraFiles),
      evaluate: (split) => evaluateSplit(split),
    },
    dp,
  );
  async function evaluateSplit(split: 'dev' | 'test') {
    if (checked[split].rows.length === 0) return null;
    // data parallel: each rank predicts its share, the predictions are gathered in the rows' order
    const rows = dp ? evaluationShare(checked[split].rows, dp.rank, dp.worldSize) : checked[split].rows;
    const l = loader(rows, split);
    // (only the main process draws; the bar counts its share of the posts under data parallelism)
    const shown = new CountProgress(`evaluating ${split}`, rows.length, { enabled: main && (opts.progress ?? false) });
    try {
      const sims: number[] = [];
      // the image-text similarity of each post exists only for a model that reads both
      const recording = !dp && modalities.length === 2;
      const local = await predictAll(
        recording ? recordingSimilarity(model, sims) : model,
        l,
        data.multiLabel,
        { precision, device: cfg.device },
        (done) => shown.update(done),
      );
      const loss = dp ? dp.sum(local.lossSum ?? 0) / checked[split].rows.length : local.loss;
      // gathered predictions come back in the rows' order
      const pred = dp
        ? { ...gatherPredictions(dp, local, data.labelNames.length), ids: checked[split].rows.map((r) => r.id) }
        : local;
      const saved = { ...pred, ...(sims.length === pred.ids.length ? { similarity: sims } : {}) };
      if (split === 'dev') devByStep.set(trainer.currentState.step, saved);
      else lastTest = saved;
      const report = metricsOf(pred, data.labelNames, data.multiLabel);
      // a plain record, as the trainer logs any report
      return { metrics: { ...report }, ...(loss !== undefined ? { loss } : {}) };
    } finally {
      shown.end();
      await l.close();
    }
  }
  if (opts.resume) {
    if (trainer.resume())
      log(
        `resuming ${cfg.out} at step ${trainer.currentState.step} (epoch ${trainer.currentState.epoch}, batch ${trainer.currentState.position})`,
      );
    else log(`no checkpoint in ${cfg.out}: starting from the beginning`);
  }
  let result: TrainResult;
  try {
    result = await trainer.run();
  } finally {
    await trainLoader.close();
  }
  const trainLog = trainLoader.badRowLog;
  if (trainLog.total > checked.train.log.total)
    for (const line of formatLeftOut(
      'train split: bad rows skipped in all (some found while decoding)',
      trainLog.groups(),
    ))
      log(line);
  const bySplit = {
    train: { ...trainLog.counts },
    dev: { ...checked.dev.badRows },
    test: { ...checked.test.badRows },
  };
  const badRows: Record<string, number> = { ...data.badRows };
  for (const counts of Object.values(bySplit))
    for (const [k, n] of Object.entries(counts)) badRows[k] = (badRows[k] ?? 0) + n;
  const results: Record<string, unknown> = {
    status: result.status,
    steps: result.steps,
    best: result.best,
    metric: cfg.metric,
    init: cfg.init,
    ...(cfg.init === 'random'
      ? {
          warning:
            'weights were randomly initialised (--init random): these numbers say nothing about pretrained models',
        }
      : {}),
    recipe: cfg.spec.recipe,
    precision,
    labels: data.labelNames,
    data: {
      ...(cfg.missingImage === 'blank' ? { blank_images: blankImages } : {}),
      path: cfg.data.path,
      format: cfg.data.format,
      train: checked.train.rows.length,
      dev: checked.dev.rows.length,
      test: checked.test.rows.length,
      bad_rows: badRows,
      bad_rows_by_split: bySplit,
      dropped: data.dropped,
    },
    dev: result.dev,
    test: result.test,
    dev_history: trainer.currentState.devHistory,
  };
  // (a resumed run may have chosen its best checkpoint before the interruption: the model now holds it; every
  // rank evaluates, as evaluation is collective under data parallelism)
  let bestDev = result.best ? devByStep.get(result.best.step) : undefined;
  if (result.status !== 'interrupted' && !bestDev && checked.dev.rows.length && (await evaluateSplit('dev')))
    bestDev = devByStep.get(trainer.currentState.step);
  if (result.status !== 'interrupted' && main) {
    // Predictions first: a run with results.json always has its predictions (studies compare runs with them).
    for (const [split, pred] of [
      ['dev', bestDev],
      ['test', lastTest],
    ] as const)
      if (pred) writePredictions(join(cfg.out, `predictions-${split}.jsonl`), pred, data.labelNames, data.multiLabel);
    writeFileAtomic(runPaths(cfg.out).results, JSON.stringify(results, null, 2) + '\n');
    if (!features) rmSync(evalFeatureDir, { recursive: true, force: true });
  }
  model.dispose();
  return { ...result, results };
}

/**
 * The identity of a run's cached image features: the frozen encoder (weights, layout), the image processor,
 * the precision and device kind they are computed in (bf16 features are not fp32 ones, and CUDA kernels
 * round differently from CPU ones) and the images per encoder run (`chunk`, the run's --batch-size: the last
 * bits depend on it), so that runs sharing a cache folder only share identical numbers.
 */
export function featureCacheKey(
  frozenImageKey: string,
  processorHash: string,
  precision: Precision,
  device: Device,
  chunk: number,
): string {
  return `${frozenImageKey}|processor:${processorHash}|compute:${precision}@${String(device).split(':')[0]}|chunk:${chunk}`;
}

/**
 * The auxiliary objectives need both modalities: a one-modality baseline (text-only, image-only, or a run
 * checkpoint of one) asked for ITC or ITM is refused before anything is read.
 */
export function checkObjectives(cfg: Pick<ExperimentConfig, 'spec' | 'aux' | 'fromCheckpoint'>): void {
  const asked = [cfg.aux.itc ? 'ITC' : null, cfg.aux.itm ? 'ITM' : null].filter(Boolean);
  if (!asked.length) return;
  const name = cfg.fromCheckpoint ? readRecipeConfig(cfg.fromCheckpoint).recipe : cfg.spec.recipe;
  const reads = recipeNamed(name).modalities;
  if (reads.length < 2)
    throw new DataError(
      `recipe ${name} reads only the ${reads.join(' and ')} of each post: ${asked.join(' and ')} ${asked.length > 1 ? 'pair' : 'pairs'} a text with an image and ${asked.length > 1 ? 'do' : 'does'} not apply (train it with --aux none)`,
    );
}

/**
 * What made the run, saved in run.json beside the settings (and not one of them: `--resume` takes the settings
 * only): tandem's version and git commit (null outside a checkout), libtorch's version, the device, the
 * threads of this process and the precision.
 */
export interface RunEnvironment {
  tandemVersion: string | null;
  commit: string | null;
  /** Tracked files differed from the commit (null without a commit). */
  commitDirty: boolean | null;
  libtorch: string;
  node: string;
  device: string;
  threads: number;
  precision: Precision;
}

export function runEnvironment(device: Device | string, precision: Precision): RunEnvironment {
  const git = gitCommit();
  return {
    tandemVersion: packageVersion(),
    commit: git?.commit ?? null,
    commitDirty: git?.dirty ?? null,
    libtorch: torchVersion(),
    node: process.version,
    device,
    threads: getNumThreads(),
    precision,
  };
}

/**
 * --feature-cache stores a frozen image encoder's outputs: with a recipe whose image side trains or is one
 * stream with the text, it could only be ignored, so it is refused before anything is read.
 */
export function checkFeatureCache(
  cfg: Pick<ExperimentConfig, 'featureCache' | 'spec' | 'fromCheckpoint'>,
  rc: RecipeConfig,
): void {
  if (!cfg.featureCache || hasFrozenImageEncoder(rc)) return;
  const recipe = recipeNamed(rc.recipe);
  const freeze = recipe.options.find((o) => o.key === 'freezeImage')?.cli;
  const why =
    freeze?.negate && rc.freezeImage === false
      ? `with --${freeze.flag} the image encoder trains, so its outputs change at every step`
      : freeze && !freeze.negate && rc.freezeImage !== true
        ? `recipe ${rc.recipe} trains its image encoder unless --${freeze.flag} is given`
        : `recipe ${rc.recipe}${cfg.fromCheckpoint ? ` (of ${cfg.fromCheckpoint})` : ''} has no frozen image encoder`;
  throw new DataError(
    `--feature-cache does not apply: ${why}. It stores the outputs of a frozen image encoder, which only recipes ${recipesWithFrozenImageEncoder().join(', ')} can have; drop --feature-cache`,
  );
}

/** Reads a run's saved experiment config. */
export function readRunConfig(out: string): ExperimentConfig {
  const { environment: _environment, ...cfg } = readRunSettings(out) as unknown as ExperimentConfig & {
    environment?: RunEnvironment;
  };
  // Runs from before presets exempted biases and LayerNorm from decay (tandem's preset); resume them as they were.
  return cfg.decayExempt === undefined ? { ...cfg, decayExempt: PRESETS.tandem.decayExempt } : cfg;
}

let bf16Noted = false;
/** Says once per process that bf16 would be faster here, when a run uses fp32 on hardware with fast bf16. */
export function noteFastBf16(precision: Precision, device: Device | string, log: (msg: string) => void): void {
  if (precision !== 'fp32' || bf16Noted) return;
  const why = fastBf16Reason(device);
  if (!why) return;
  bf16Noted = true;
  log(`note: ${why}: --precision bf16 trains and predicts faster (fp32, the default, reproduces the paper exactly)`);
}
