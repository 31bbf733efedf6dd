// One experiment end to end, as the `tandem train` command runs it: data (a generic file or a benchmark in
// its published layout), the classifier recipe, the input pipeline, the trainer, evaluation, results.json.
// The resolved settings are saved as run.json in the run folder, so `--resume` rebuilds exactly the same
// experiment from the folder alone.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../io/atomic-write.js';
import { loadDataset } from '../data/formats/index.js';
import type { Row } from '../data/rows.js';
import {
  BatchLoader,
  PostEncoder,
  validateRows,
  FeatureCache,
  disposeBatch,
  type BadRowPolicy,
} from '../data/pipeline/index.js';
import {
  classificationReport,
  metricValue,
  multilabelReport,
  type MetricsReport,
  type MultilabelReport,
} from '../eval/index.js';
import {
  buildClassifier,
  classifierFromConfig,
  loadClassifier,
  recipeConfigFor,
  saveClassifier,
  sourceFolderFiles,
  type RecipeSpec,
  type AnyClassifier,
} from '../multimodal/builder.js';
import type { MultimodalClassifier, RecipeConfig } from '../multimodal/types.js';
import { balancedClassWeights } from '../objectives/index.js';
import { F, manualSeed, noGrad, tidy, type Device } from '../tensor/index.js';
import { Trainer, runPaths, type BatchSource, type TrainOptions, type TrainResult } from './trainer.js';
import { evaluationShare, gatherPredictions, type DataParallel } from './data-parallel.js';

/**
 * Everything that defines a run (saved as run.json): the trainer's options (TrainOptions; class weights as a
 * rule rather than numbers) plus the model, the data and the input pipeline.
 */
export interface ExperimentConfig extends Omit<TrainOptions, 'classWeights' | 'multiLabel' | 'progress'> {
  spec: RecipeSpec;
  /** Continue fine-tuning a tandem run checkpoint (its recipe, weights, tokenizer and processor). */
  fromCheckpoint?: string;
  /** 'pretrained' loads the checkpoints; 'random' builds from the configs (and `configOverrides`) only. */
  init: 'pretrained' | 'random';
  /** Deep-merged into the sub-model configs for --init random (for example tiny sizes). */
  configOverrides?: Record<string, unknown>;
  data: { path: string; format: string; variant?: string; splitSeed?: number; onMissingImage?: 'drop' | 'keep' };
  batchSize: number;
  evalBatchSize?: number;
  classWeights: 'balanced' | 'none';
  maxLength: number;
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
  badRows: Record<string, number>;
  dropped: Record<string, number>;
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
  });
  const rows = { train: [] as Row[], dev: [] as Row[], test: [] as Row[] };
  for (const r of res.rows) {
    const s = r.split === 'validation' || r.split === 'val' ? 'dev' : r.split;
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
  return { rows, labelNames, multiLabel, badRows: {}, dropped: res.dropped, notes: res.notes };
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

/** The tokenizer / processor folders of a spec. */
export function inputFolders(spec: Pick<RecipeSpec, 'textModel' | 'imageModel' | 'model' | 'recipe'>): {
  text: string;
  image: string;
} {
  const text = spec.textModel ?? spec.model;
  const image = spec.imageModel ?? spec.model;
  if (!text || !image)
    throw new Error(`recipe "${spec.recipe}": no model folder for the tokenizer or the image processor`);
  return { text, image };
}

export function makeEncoder(
  textDir: string,
  imageDir: string,
  labelNames: string[],
  multiLabel: boolean,
  cfg: Pick<ExperimentConfig, 'maxLength' | 'tweetNormalize'>,
  withLabels = true,
): PostEncoder {
  return PostEncoder.fromModelDirs(textDir, imageDir, {
    labelNames,
    multiLabel,
    maxLength: cfg.maxLength,
    tweetNormalize: cfg.tweetNormalize,
    withLabels,
  });
}

/** Predicted labels, probabilities and true labels for every post a loader yields (eval mode, no gradients). */
export async function predictAll(
  model: MultimodalClassifier,
  loader: BatchLoader,
  multiLabel: boolean,
): Promise<{ ids: string[]; probs: number[][]; truth: number[][] | number[] | null }> {
  model.eval();
  const ids: string[] = [];
  const probs: number[][] = [];
  const truth: (number | number[])[] = [];
  let hasTruth = true;
  for await (const batch of loader.epoch(0)) {
    noGrad(() =>
      tidy(() => {
        const logits = model.classify(model.encode(batch).pair);
        const p = (multiLabel ? logits.sigmoid() : logits.softmax(-1)).toArray();
        const k = logits.size(1);
        for (let i = 0; i < batch.size; i++) probs.push(p.slice(i * k, (i + 1) * k));
        ids.push(...batch.ids);
        if (!batch.labels) hasTruth = false;
        else {
          const t = batch.labels.toArray();
          if (multiLabel) for (let i = 0; i < batch.size; i++) truth.push(t.slice(i * k, (i + 1) * k));
          else truth.push(...t);
        }
      }),
    );
    disposeBatch(batch);
  }
  return { ids, probs, truth: hasTruth ? (truth as number[][] | number[]) : null };
}

export interface LabelledPrediction {
  id: string;
  /** The predicted class (multi-label: every class with p >= 0.5). */
  label: string | string[];
  /** The probability of the predicted class (multi-label: of the most likely one). */
  score: number;
  probabilities: Record<string, number>;
}

/** Predictions with class names: the arg-max (or, multi-label, every class at 0.5 or above) and all probabilities. */
export function labelPredictions(
  pred: { ids: string[]; probs: number[][] },
  labelNames: string[],
  multiLabel: boolean,
): LabelledPrediction[] {
  return pred.ids.map((id, i) => {
    const probs = pred.probs[i]!;
    const best = probs.indexOf(Math.max(...probs));
    return {
      id,
      label: multiLabel ? labelNames.filter((_, k) => probs[k]! >= 0.5) : labelNames[best]!,
      score: probs[best]!,
      probabilities: Object.fromEntries(labelNames.map((n, k) => [n, probs[k]!])),
    };
  });
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
          // a recipe without both embeddings of one width (a unimodal baseline) has no similarity: none saved
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

/** The metrics report of predictions against the truth. */
export function metricsOf(
  pred: { probs: number[][]; truth: number[][] | number[] | null },
  labelNames: string[],
  multiLabel: boolean,
): MetricsReport | MultilabelReport {
  if (!pred.truth) throw new Error('no labels to evaluate against');
  if (multiLabel) {
    const yPred = pred.probs.map((row) => row.map((p) => (p >= 0.5 ? 1 : 0)));
    return multilabelReport(pred.truth as number[][], yPred, { labelNames });
  }
  const yPred = pred.probs.map((row) => row.indexOf(Math.max(...row)));
  return classificationReport(pred.truth as number[], yPred, {
    labelNames,
    ...(labelNames.length === 2 ? { scores: pred.probs.map((r) => r[1]!) } : { scores: pred.probs }),
  });
}

export interface ExperimentResult extends TrainResult {
  results: Record<string, unknown>;
}

/**
 * Runs an experiment (or resumes it when `resume` and the run folder has a checkpoint). Writes run.json,
 * log.jsonl, checkpoints, `best`, `last` and results.json into cfg.out.
 */
export async function runExperiment(
  cfg: ExperimentConfig,
  opts: {
    resume?: boolean;
    progress?: boolean;
    log?: (msg: string) => void;
    /** Data parallelism: this process is one rank; rank 0 writes the run folder. */
    parallel?: DataParallel | null;
  } = {},
): Promise<ExperimentResult> {
  const dp = opts.parallel ?? null;
  const main = dp?.isMain ?? true;
  const log = main ? (opts.log ?? (() => undefined)) : () => undefined;
  mkdirSync(cfg.out, { recursive: true });
  const runFile = join(cfg.out, 'run.json');
  if (main && (!opts.resume || !existsSync(runFile)))
    writeFileAtomic(runFile, JSON.stringify({ ...cfg, ...(dp ? { worldSize: dp.worldSize } : {}) }, null, 2) + '\n');
  const data = loadExperimentData(cfg.data, cfg.onBadRow);
  // rank 0 writes the blank image, the others use it once it is complete
  if (dp && !main) dp.pg.barrier();
  const blankImages =
    cfg.missingImage === 'blank' ? await fillMissingImages(data.rows, join(cfg.out, 'blank-image.png')) : 0;
  if (dp && main) dp.pg.barrier();
  const folders = cfg.fromCheckpoint ? { text: cfg.fromCheckpoint, image: cfg.fromCheckpoint } : inputFolders(cfg.spec);
  const encoder = makeEncoder(folders.text, folders.image, data.labelNames, data.multiLabel, cfg);
  const checked = {
    train: validateRows(data.rows.train, encoder, { onBadRow: cfg.onBadRow }),
    dev: validateRows(data.rows.dev, encoder, { onBadRow: cfg.onBadRow }),
    test: validateRows(data.rows.test, encoder, { onBadRow: cfg.onBadRow }),
  };
  // Seeded before the model is built, so that random initialisation (and with it the whole run) repeats.
  manualSeed(cfg.seed);
  const model = buildExperimentModel(cfg, data.labelNames, data.multiLabel);
  if (cfg.device !== 'cpu') model.to(cfg.device);
  const features =
    model.frozenImageFeatures && model.frozenImageKey && cfg.featureCache
      ? {
          cache: new FeatureCache(resolve(cfg.featureCache), {
            frozenImageKey: model.frozenImageKey,
            processorHash: encoder.processorHash,
          }),
          compute: (px: Parameters<NonNullable<typeof model.frozenImageFeatures>>[0]) =>
            noGrad(() => model.frozenImageFeatures!(px)),
        }
      : undefined;
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
      ...(features ? { features } : {}),
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
  // The latest predictions per split: after training, the last evaluation is the best checkpoint's final one.
  const latest: Partial<Record<'dev' | 'test', Awaited<ReturnType<typeof predictAll>> & { similarity?: number[] }>> =
    {};
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
      evaluate: async (split) => {
        if (checked[split].rows.length === 0) return null;
        // data parallel: each rank predicts its share, the predictions are gathered in the rows' order
        const rows = dp ? evaluationShare(checked[split].rows, dp.rank, dp.worldSize) : checked[split].rows;
        const l = loader(rows, split);
        try {
          const sims: number[] = [];
          const local = await predictAll(dp ? model : recordingSimilarity(model, sims), l, data.multiLabel);
          // gathered predictions come back in the rows' order
          const pred = dp
            ? { ...gatherPredictions(dp, local, data.labelNames.length), ids: checked[split].rows.map((r) => r.id) }
            : local;
          latest[split] = { ...pred, ...(sims.length === pred.ids.length ? { similarity: sims } : {}) };
          const report = metricsOf(pred, data.labelNames, data.multiLabel);
          return { metrics: { ...report } }; // a plain record, as the trainer logs any report
        } finally {
          await l.close();
        }
      },
    },
    dp,
  );
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
  const bySplit = {
    train: { ...trainLoader.badRows },
    dev: { ...checked.dev.badRows },
    test: { ...checked.test.badRows },
  };
  const badRows: Record<string, number> = {};
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
  if (result.status !== 'interrupted' && main) {
    // Predictions first: a run with results.json always has its predictions (studies compare runs with them).
    for (const split of ['dev', 'test'] as const) {
      const pred = latest[split];
      if (pred) writePredictions(join(cfg.out, `predictions-${split}.jsonl`), pred, data.labelNames, data.multiLabel);
    }
    writeFileAtomic(runPaths(cfg.out).results, JSON.stringify(results, null, 2) + '\n');
  }
  model.dispose();
  return { ...result, results };
}

/**
 * Gives posts without an image (image null, or a file that does not exist) a blank black image written once
 * to `blankPath`, and flags them with `extra.image_missing`. Returns how many posts got it.
 */
export async function fillMissingImages(rows: ExperimentData['rows'], blankPath: string): Promise<number> {
  const missing = [...rows.train, ...rows.dev, ...rows.test].filter((r) => r.image === null || !existsSync(r.image));
  if (missing.length === 0) return 0;
  if (!existsSync(blankPath)) {
    const png = await sharp({ create: { width: 224, height: 224, channels: 3, background: { r: 0, g: 0, b: 0 } } })
      .png()
      .toBuffer();
    writeFileAtomic(blankPath, png);
  }
  for (const r of missing) {
    r.image = blankPath;
    r.extra = { ...r.extra, image_missing: true };
  }
  return missing.length;
}

/** Reads a run's saved experiment config. */
export function readRunConfig(out: string): ExperimentConfig {
  const path = join(out, 'run.json');
  if (!existsSync(path)) throw new Error(`${out}: not a tandem run folder (no run.json)`);
  return JSON.parse(readFileSync(path, 'utf8')) as ExperimentConfig;
}

export { metricValue };

/** A trained classifier ready for evaluation or prediction. */
export interface LoadedRun {
  /** The checkpoint folder used. */
  dir: string;
  model: AnyClassifier & MultimodalClassifier;
  labelNames: string[];
  multiLabel: boolean;
  /** The run's settings when `run` was a run folder. */
  config: ExperimentConfig | null;
  /** Gives image-less posts the run's blank image when it trained with --missing-image blank; returns how many. */
  fillMissingImages(rows: Row[]): Promise<number>;
  encoder(withLabels: boolean): PostEncoder;
  /**
   * Predicts posts: the run's blank image for image-less posts where it has one, the pre-flight check (a
   * BadRowError under 'error', the default), then batches in order. Returns the predictions (with the truth
   * when withLabels) and the bad rows left out under 'skip'.
   */
  predict(
    rows: Row[],
    o: { withLabels: boolean; onBadRow?: BadRowPolicy; batchSize?: number; workers?: number },
  ): Promise<{ pred: Awaited<ReturnType<typeof predictAll>>; badRows: Record<string, number> }>;
}

/**
 * Opens a run folder (its `best` checkpoint, or `last` with which = 'last') or a checkpoint folder directly
 * (any folder whose config.json has a `tandem` section).
 */
export function openRun(run: string, which: 'best' | 'last' = 'best'): LoadedRun {
  const root = resolve(run);
  if (!existsSync(root)) throw new Error(`${root}: no such run folder or checkpoint`);
  const paths = runPaths(root);
  const linked = which === 'best' ? paths.best : paths.last;
  const dir = existsSync(join(root, 'config.json')) ? root : existsSync(linked) ? resolve(linked) : null;
  if (!dir)
    throw new Error(`${root}: not a run folder (no ${which} checkpoint) nor a checkpoint folder (no config.json)`);
  const config = existsSync(join(root, 'run.json')) ? readRunConfig(root) : null;
  const model = loadClassifier(dir);
  const rc = model.recipeConfig();
  const loaded: LoadedRun = {
    dir,
    model,
    labelNames: rc.labelNames,
    multiLabel: rc.multiLabel ?? false,
    config,
    fillMissingImages: async (rows) =>
      config?.missingImage === 'blank'
        ? fillMissingImages({ train: rows, dev: [], test: [] }, join(root, 'blank-image.png'))
        : 0,
    encoder: (withLabels) =>
      makeEncoder(
        dir,
        dir,
        rc.labelNames,
        rc.multiLabel ?? false,
        { maxLength: config?.maxLength ?? 128, tweetNormalize: config?.tweetNormalize ?? false },
        withLabels,
      ),
    predict: async (rows, o) => {
      await loaded.fillMissingImages(rows);
      const encoder = loaded.encoder(o.withLabels);
      const onBadRow = o.onBadRow ?? 'error';
      const checked = validateRows(rows, encoder, { onBadRow });
      const loader = new BatchLoader(checked.rows, encoder, {
        batchSize: o.batchSize ?? 32,
        shuffle: false,
        onBadRow,
        preflight: checked.log,
        ...(o.workers !== undefined ? { workers: o.workers } : {}),
      });
      try {
        return { pred: await predictAll(model, loader, loaded.multiLabel), badRows: loader.badRows };
      } finally {
        await loader.close();
      }
    },
  };
  return loaded;
}
