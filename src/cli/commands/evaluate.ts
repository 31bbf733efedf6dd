// `tandem evaluate`: metrics of a trained run on a dataset split.
import { resolve } from 'node:path';
import { loadDataset, FORMAT_NAMES } from '../../data/formats/index.js';
import { DataError } from '../../data/rows.js';
import { groupsOf, skippedNote, totalOf } from '../../data/left-out.js';
import { normaliseSplit } from '../../data/build.js';
import { formatReport } from '../../eval/index.js';
import { labelPredictions, metricsOf, openRun } from '../../inference/index.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { PREDICT_BATCH_SIZE } from '../../train/defaults.js';
import { CountProgress } from '../../runtime/progress.js';
import { CliError, EXIT } from '../args.js';
import { defineCommand, deviceFlag, deviceOption, parseCommand, precisionOption, writableFile } from '../options.js';
import { missingImageModelOption, onBadRowOption, printDropped, printLeftOut } from '../data-flags.js';

const CHECKPOINTS = ['best', 'last'] as const;

export const EVALUATE = defineCommand({
  name: 'evaluate',
  usage: ['tandem evaluate --run runs/NAME --data <file|dir> [options]'],
  description: `Evaluates a trained run (its best checkpoint) on labelled posts and prints accuracy, macro/weighted F1,
precision, recall, per-class scores, the confusion matrix and, for binary tasks, AUROC.`,
  options: {
    precision: precisionOption("forward passes in fp32 or under bf16/fp16 (CUDA) autocast (default: the run's)"),
    device: deviceOption('cpu or cuda[:N]: where the model runs'),
    run: { type: 'string', required: true, placeholder: 'R', help: 'run folder (uses R/best) or a checkpoint folder' },
    checkpoint: { type: 'enum', choices: CHECKPOINTS, default: 'best', help: 'which checkpoint of a run folder' },
    data: {
      type: 'string',
      required: true,
      placeholder: 'P',
      help: 'generic JSONL/CSV file, or a dataset folder with --format',
    },
    format: { type: 'enum', choices: FORMAT_NAMES, default: 'generic', help: 'the dataset layout' },
    variant: { type: 'string', placeholder: 'V', help: "the dataset's task variant" },
    split: {
      type: 'enum',
      choices: ['test', 'dev', 'train', 'all'],
      help: 'which posts to evaluate',
      defaultText: 'test when the data has splits, else all',
    },
    'on-bad-row': onBadRowOption(
      'error',
      'a post with a missing or unreadable image, an unknown label, empty text, or a malformed line',
    ),
    'missing-image': missingImageModelOption(
      'posts without an image: bad rows, or the blank image runs trained with --missing-image blank use',
      { defaultText: "the run's (blank when it trained with blank, else bad-row)" },
    ),
    'batch-size': { type: 'int', default: PREDICT_BATCH_SIZE, min: 1, help: 'posts per forward pass' },
    predictions: {
      type: 'string',
      placeholder: 'FILE',
      check: writableFile,
      help: 'also write one JSON line per post: id, label, gold, probabilities',
    },
    json: { type: 'boolean', help: 'print the metrics as JSON' },
    'no-progress': { type: 'boolean', help: 'no progress bar (it is drawn on stderr only when that is a terminal)' },
  },
  footer: 'Exit codes: 0 done, 1 failure, 2 bad input.',
});

export const specs = [EVALUATE];

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(EVALUATE, argv);
  if (!a) return EXIT.ok;
  const v = a.values;
  const device = deviceFlag(v.device);
  const which = v.checkpoint;
  const policy = v['on-bad-row'];
  let loadedData;
  try {
    loadedData = loadDataset(v.format, resolve(v.data), {
      ...(v.variant ? { variant: v.variant } : {}),
      noSaveSplit: true,
      onMalformedLine: policy,
      // Posts without an image reach the bad-row policy (or the run's blank image) instead of being dropped.
      onMissingImage: 'keep',
    });
  } catch (e) {
    if (e instanceof DataError) throw new CliError(e.message);
    throw e;
  }
  let rows = loadedData.rows;
  const splits = new Set(rows.map((r) => r.split));
  const split =
    v.split === undefined ? (splits.has('test') ? 'test' : 'all') : v.split === 'all' ? 'all' : normaliseSplit(v.split);
  if (split !== 'all') rows = rows.filter((r) => r.split === split);
  if (rows.length === 0)
    throw new CliError(`${v.data}: no posts in split '${split}' (splits present: ${[...splits].join(', ')})`);
  let loaded;
  try {
    loaded = openRun(v.run, which, device);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const batchSize = v['batch-size'];
  const shown = new CountProgress('evaluating', undefined, { enabled: !v['no-progress'] });
  try {
    let result;
    try {
      result = await loaded.predict(rows, {
        withLabels: true,
        onBadRow: policy,
        ...(v['missing-image'] ? { missingImage: v['missing-image'] } : {}),
        batchSize,
        ...(v.precision ? { precision: v.precision } : {}),
        onProgress: (done, total) => shown.update(done, total),
      });
    } catch (e) {
      if (e instanceof DataError) throw new CliError(e.message);
      throw e;
    } finally {
      shown.end();
    }
    const { pred, skipped } = result;
    // Lines of the file that were not posts count with the posts left out; the format's own drops apart.
    const fileLog = groupsOf(loadedData.badRows, loadedData.leftOut);
    const groups = [...fileLog, ...skipped.groups()];
    const badRows = { ...loadedData.badRows, ...skipped.counts };
    printLeftOut('evaluate', `posts skipped (--on-bad-row ${policy})`, groups);
    printDropped('evaluate', loadedData);
    const metrics = metricsOf(pred, loaded.labelNames, loaded.multiLabel);
    if (v.predictions) {
      const names = loaded.labelNames;
      const goldOf = (i: number) =>
        loaded.multiLabel
          ? names.filter((_, k) => ((pred.truth as number[][])[i] ?? [])[k] === 1)
          : names[(pred.truth as number[])[i]!];
      const lines = labelPredictions(pred, loaded.labelNames, loaded.multiLabel).map((p, i) =>
        JSON.stringify({ id: p.id, label: p.label, gold: goldOf(i), probabilities: p.probabilities }),
      );
      writeFileAtomic(resolve(v.predictions), lines.join('\n') + '\n');
    }
    const out = {
      checkpoint: loaded.dir,
      split,
      n: pred.ids.length,
      skipped: totalOf(groups),
      bad_rows: badRows,
      dropped: loadedData.dropped,
      metrics,
    };
    if (v.json) console.log(JSON.stringify(out, null, 2));
    else {
      const note = skippedNote(groups);
      console.log(`${loaded.dir} on ${v.data} (${split}, ${pred.ids.length} posts${note ? `; ${note}` : ''})`);
      console.log(loaded.multiLabel ? JSON.stringify(metrics, null, 2) : formatReport(metrics));
    }
  } finally {
    loaded.model.dispose();
  }
  return EXIT.ok;
}
