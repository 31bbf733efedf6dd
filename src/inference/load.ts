// A trained classifier ready to predict: a run folder (its best or last checkpoint) or a checkpoint folder,
// with the post encoder it was trained with and prediction over rows in ordered batches.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Row } from '../data/rows.js';
import { BatchLoader, PostEncoder, validateRows, type BadRowLog, type BadRowPolicy } from '../data/pipeline/index.js';
import { loadClassifier, type AnyClassifier } from '../multimodal/builder.js';
import type { Modality, MultimodalClassifier } from '../multimodal/types.js';
import { recipeNamed } from '../multimodal/registry.js';
import { fillMissingImages } from './blank-image.js';
import { predictAll, type Predictions } from './predict.js';
import { checkPrecision, type Device, type Precision } from '../tensor/index.js';
import { readRunSettings, runPaths, type RunSettings } from './run-folder.js';

/** The tokenizer and image-processor folders of a model: null for a modality it does not read. */
export interface InputFolders {
  text: string | null;
  image: string | null;
}

/** The post encoder of a model: its tokenizer and image processor folders, labels and text settings. */
export function makeEncoder(
  folders: InputFolders,
  labelNames: string[],
  multiLabel: boolean,
  cfg: { maxLength: number; tweetNormalize: boolean },
  withLabels = true,
): PostEncoder {
  return PostEncoder.fromModelDirs(folders.text, folders.image, {
    labelNames,
    multiLabel,
    maxLength: cfg.maxLength,
    tweetNormalize: cfg.tweetNormalize,
    withLabels,
  });
}

/** The folders of a one-folder model (a run checkpoint holds its tokenizer and processor files) for what it reads. */
export function checkpointInputs(dir: string, modalities: readonly Modality[]): InputFolders {
  return { text: modalities.includes('text') ? dir : null, image: modalities.includes('image') ? dir : null };
}

/** A trained classifier ready for evaluation or prediction. */
export interface LoadedRun {
  /** The checkpoint folder used. */
  dir: string;
  model: AnyClassifier & MultimodalClassifier;
  labelNames: string[];
  multiLabel: boolean;
  /** The run's settings when `run` was a run folder. */
  config: RunSettings | null;
  /** What the model reads of each post (its recipe's modalities): posts need only these. */
  modalities: readonly Modality[];
  /**
   * Gives image-less posts the run's blank image when it trained with --missing-image blank (or when `blank`
   * says so: true gives it, false never); returns how many.
   */
  fillMissingImages(rows: Row[], blank?: boolean): Promise<number>;
  encoder(withLabels: boolean): PostEncoder;
  /**
   * Predicts posts: the run's blank image for image-less posts where it has one, the pre-flight check (a
   * BadRowError under 'error', the default), then batches in order. Returns the predictions (with the truth
   * when withLabels) and the bad rows left out under 'skip'.
   */
  predict(
    rows: Row[],
    o: {
      withLabels: boolean;
      onBadRow?: BadRowPolicy;
      batchSize?: number;
      workers?: number;
      /** Posts without an image: a bad row, or the blank image (default: what the run trained with). */
      missingImage?: 'bad-row' | 'blank';
      /** Forward-pass precision (default: the run's, else fp32), on the device the model is on. */
      precision?: Precision;
      /** Called after each batch with the posts predicted so far and the posts to predict. */
      onProgress?: (done: number, total: number) => void;
    },
  ): Promise<{ pred: Predictions; badRows: Record<string, number>; skipped: BadRowLog }>;
}

/**
 * Opens a run folder (its `best` checkpoint, or `last` with which = 'last') or a checkpoint folder directly
 * (any folder whose config.json has a `tandem` section), with the model on `device` (batches go there too).
 */
export function openRun(run: string, which: 'best' | 'last' = 'best', device: Device = 'cpu'): LoadedRun {
  const root = resolve(run);
  if (!existsSync(root)) throw new Error(`${root}: no such run folder or checkpoint`);
  const paths = runPaths(root);
  const linked = which === 'best' ? paths.best : paths.last;
  const dir = existsSync(join(root, 'config.json')) ? root : existsSync(linked) ? resolve(linked) : null;
  if (!dir)
    throw new Error(`${root}: not a run folder (no ${which} checkpoint) nor a checkpoint folder (no config.json)`);
  const config = existsSync(paths.settings) ? readRunSettings(root) : null;
  const model = loadClassifier(dir);
  if (device !== 'cpu') model.to(device);
  const rc = model.recipeConfig();
  // what the recipe reads decides what the posts need: a text-only run never opens an image
  const modalities = recipeNamed(rc.recipe).modalities;
  const readsImages = modalities.includes('image');
  const loaded: LoadedRun = {
    dir,
    model,
    labelNames: rc.labelNames,
    multiLabel: rc.multiLabel ?? false,
    config,
    modalities,
    fillMissingImages: async (rows, blank = config?.missingImage === 'blank') =>
      readsImages && blank ? fillMissingImages(rows, paths.blankImage) : 0,
    encoder: (withLabels) =>
      makeEncoder(
        checkpointInputs(dir, modalities),
        rc.labelNames,
        rc.multiLabel ?? false,
        { maxLength: config?.maxLength ?? 128, tweetNormalize: config?.tweetNormalize ?? false },
        withLabels,
      ),
    predict: async (rows, o) => {
      await loaded.fillMissingImages(rows, o.missingImage === undefined ? undefined : o.missingImage === 'blank');
      const encoder = loaded.encoder(o.withLabels);
      const onBadRow = o.onBadRow ?? 'error';
      const checked = validateRows(rows, encoder, { onBadRow });
      const loader = new BatchLoader(checked.rows, encoder, {
        batchSize: o.batchSize ?? 32,
        shuffle: false,
        onBadRow,
        preflight: checked.log,
        device,
        ...(o.workers !== undefined ? { workers: o.workers } : {}),
      });
      try {
        const precision = { precision: o.precision ?? config?.precision ?? 'fp32', device };
        checkPrecision(precision.precision, precision.device);
        const pred = await predictAll(model, loader, loaded.multiLabel, precision, o.onProgress);
        const skipped = loader.badRowLog;
        return { pred, badRows: skipped.counts, skipped };
      } finally {
        await loader.close();
      }
    },
  };
  return loaded;
}
