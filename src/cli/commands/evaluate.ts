// `tandem evaluate`: metrics of a trained run on a dataset split.
import { resolve } from 'node:path';
import { loadDataset, FORMAT_NAMES } from '../../data/formats/index.js';
import { DataError } from '../../data/rows.js';
import { formatReport } from '../../eval/index.js';
import { labelPredictions, metricsOf, openRun } from '../../train/experiment.js';
import { writeFileAtomic } from '../../io/atomic-write.js';
import { CliError, EXIT, intFlag, parse, precisionFlag } from '../args.js';

const HELP = `Usage: tandem evaluate --run runs/NAME --data <file|dir> [options]

Evaluates a trained run (its best checkpoint) on labelled posts and prints accuracy, macro/weighted F1,
precision, recall, per-class scores, the confusion matrix and, for binary tasks, AUROC.

Options:
  --run R                   run folder (uses R/best) or a checkpoint folder
  --checkpoint best|last    which checkpoint of a run folder (default best)
  --data P                  generic JSONL/CSV file, or a dataset folder with --format
  --format F                ${FORMAT_NAMES.join(', ')} (default generic)
  --variant V               the dataset's task variant
  --split S                 test (default when the data has splits), dev, train or all
  --on-bad-row error|skip   (default error)
  --batch-size N            (default 32)
  --precision fp32|bf16|fp16  forward passes in fp32 or bf16/fp16 (CUDA) autocast (default: the run's)
  --predictions FILE        also write one JSON line per post: id, label, gold, probabilities
  --json                    print the metrics as JSON
Exit codes: 0 done, 1 failure, 2 bad input.`;

export async function run(argv: string[]): Promise<number> {
  const a = parse(
    argv,
    {
      run: { type: 'string' },
      checkpoint: { type: 'string' },
      data: { type: 'string' },
      format: { type: 'string' },
      variant: { type: 'string' },
      split: { type: 'string' },
      'on-bad-row': { type: 'string' },
      'batch-size': { type: 'string' },
      precision: { type: 'string' },
      predictions: { type: 'string' },
      json: { type: 'boolean' },
    },
    HELP,
    false,
  );
  if (!a) return EXIT.ok;
  const v = a.values;
  if (!v.run) throw new CliError(`--run is required\n\n${HELP}`);
  if (!v.data) throw new CliError(`--data is required\n\n${HELP}`);
  const which = v.checkpoint ?? 'best';
  if (which !== 'best' && which !== 'last') throw new CliError(`--checkpoint expects best or last, got '${which}'`);
  const policy = v['on-bad-row'] ?? 'error';
  if (policy !== 'error' && policy !== 'skip')
    throw new CliError(`--on-bad-row expects error or skip, got '${policy}'`);
  let rows;
  try {
    rows = loadDataset(v.format ?? 'generic', resolve(v.data), {
      ...(v.variant ? { variant: v.variant } : {}),
      noSaveSplit: true,
      // Posts without an image reach the bad-row policy (or the run's blank image) instead of being dropped.
      onMissingImage: 'keep',
    }).rows;
  } catch (e) {
    if (e instanceof DataError) throw new CliError(e.message);
    throw e;
  }
  const splits = new Set(rows.map((r) => r.split));
  const split = v.split ?? (splits.has('test') ? 'test' : 'all');
  if (split !== 'all') rows = rows.filter((r) => r.split === split);
  if (rows.length === 0)
    throw new CliError(`${v.data}: no posts in split '${split}' (splits present: ${[...splits].join(', ')})`);
  let loaded;
  try {
    loaded = openRun(v.run, which);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const batchSize = intFlag('batch-size', v['batch-size'], 32)!;
  try {
    let result;
    try {
      result = await loaded.predict(rows, {
        withLabels: true,
        onBadRow: policy,
        batchSize,
        precision: precisionFlag(v.precision),
      });
    } catch (e) {
      if (e instanceof DataError) throw new CliError(e.message);
      throw e;
    }
    const { pred, badRows } = result;
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
    const out = { checkpoint: loaded.dir, split, n: pred.ids.length, bad_rows: badRows, metrics };
    if (v.json) console.log(JSON.stringify(out, null, 2));
    else {
      console.log(`${loaded.dir} on ${v.data} (${split}, ${pred.ids.length} posts)`);
      console.log(loaded.multiLabel ? JSON.stringify(metrics, null, 2) : formatReport(metrics as never));
    }
  } finally {
    loaded.model.dispose();
  }
  return EXIT.ok;
}
