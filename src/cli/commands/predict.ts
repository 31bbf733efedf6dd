// `tandem predict`: labels and class probabilities for new posts from a trained run.
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { loadDataset } from '../../data/formats/index.js';
import { DataError, type Row } from '../../data/rows.js';
import { labelPredictions, openRun } from '../../train/experiment.js';
import { CliError, EXIT, intFlag, parse, precisionFlag } from '../args.js';

const HELP = `Usage: tandem predict --run runs/NAME (--text T --image I | --input posts.jsonl) [--json]

Predicts the label of each post with a trained run (its best checkpoint).

Options:
  --run R                   run folder (uses R/best) or a checkpoint folder
  --checkpoint best|last    which checkpoint of a run folder (default best)
  --text T --image I        one post
  --input FILE              posts in the generic format (JSONL or CSV: id, text, image; labels ignored)
  --batch-size N            (default 32)
  --precision fp32|bf16|fp16  forward passes in fp32 or bf16/fp16 (CUDA) autocast (default: the run's)
  --json                    one JSON object per post: id, label, probabilities
Exit codes: 0 done, 1 failure, 2 bad input.`;

export async function run(argv: string[]): Promise<number> {
  const a = parse(
    argv,
    {
      run: { type: 'string' },
      checkpoint: { type: 'string' },
      text: { type: 'string' },
      image: { type: 'string' },
      input: { type: 'string' },
      'batch-size': { type: 'string' },
      precision: { type: 'string' },
      json: { type: 'boolean' },
    },
    HELP,
    false,
  );
  if (!a) return EXIT.ok;
  const v = a.values;
  if (!v.run) throw new CliError(`--run is required\n\n${HELP}`);
  const single = v.text !== undefined || v.image !== undefined;
  if (single === (v.input !== undefined)) throw new CliError(`give either --text and --image, or --input\n\n${HELP}`);
  let rows: Row[];
  if (single) {
    if (v.text === undefined || v.image === undefined) throw new CliError('--text and --image go together');
    if (!existsSync(v.image)) throw new CliError(`--image ${v.image}: no such file`);
    rows = [{ id: 'post', text: v.text, image: resolve(v.image) }];
  } else {
    try {
      rows = loadDataset('generic', resolve(v.input!), { noSaveSplit: true, onMissingImage: 'keep' }).rows;
    } catch (e) {
      if (e instanceof DataError) throw new CliError(e.message);
      throw e;
    }
  }
  const which = v.checkpoint ?? 'best';
  if (which !== 'best' && which !== 'last') throw new CliError(`--checkpoint expects best or last, got '${which}'`);
  let loaded;
  try {
    loaded = openRun(v.run, which);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  try {
    let pred;
    try {
      pred = (
        await loaded.predict(rows, {
          withLabels: false,
          batchSize: intFlag('batch-size', v['batch-size'], 32)!,
          precision: precisionFlag(v.precision),
        })
      ).pred;
    } catch (e) {
      if (e instanceof DataError) throw new CliError(e.message);
      throw e;
    }
    for (const p of labelPredictions(pred, loaded.labelNames, loaded.multiLabel)) {
      if (v.json) console.log(JSON.stringify({ id: p.id, label: p.label, probabilities: p.probabilities }));
      else console.log(`${p.id}\t${Array.isArray(p.label) ? p.label.join(',') : p.label}\t${p.score.toFixed(4)}`);
    }
  } finally {
    loaded.model.dispose();
  }
  return EXIT.ok;
}
