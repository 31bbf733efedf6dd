// `tandem predict`: labels and class probabilities for new posts from a trained run.
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { loadDataset } from '../../data/formats/index.js';
import { BatchLoader, validateRows } from '../../data/pipeline/index.js';
import { DataError, type Row } from '../../data/rows.js';
import { openRun, predictAll } from '../../train/experiment.js';
import { CliError, EXIT, intFlag, parse } from '../args.js';

const HELP = `Usage: tandem predict --run runs/NAME (--text T --image I | --input posts.jsonl) [--json]

Predicts the label of each post with a trained run (its best checkpoint).

Options:
  --run R                   run folder (uses R/best) or a checkpoint folder
  --checkpoint best|last    which checkpoint of a run folder (default best)
  --text T --image I        one post
  --input FILE              posts in the generic format (JSONL or CSV: id, text, image; labels ignored)
  --batch-size N            (default 32)
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
      rows = loadDataset('generic', resolve(v.input!), { noSaveSplit: true }).rows;
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
  const encoder = loaded.encoder(false);
  try {
    validateRows(rows, encoder, { onBadRow: 'error' });
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const loader = new BatchLoader(rows, encoder, {
    batchSize: intFlag('batch-size', v['batch-size'], 32)!,
    shuffle: false,
  });
  try {
    const pred = await predictAll(loaded.model, loader, loaded.multiLabel);
    pred.ids.forEach((id, i) => {
      const probs = pred.probs[i]!;
      const best = probs.indexOf(Math.max(...probs));
      const label = loaded.multiLabel ? loaded.labelNames.filter((_, k) => probs[k]! >= 0.5) : loaded.labelNames[best];
      const probabilities = Object.fromEntries(loaded.labelNames.map((n, k) => [n, probs[k]]));
      if (v.json) console.log(JSON.stringify({ id, label, probabilities }));
      else
        console.log(
          `${id}\t${Array.isArray(label) ? label.join(',') : label}\t${loaded.multiLabel ? '' : probs[best]!.toFixed(4)}`,
        );
    });
  } finally {
    await loader.close();
    loaded.model.dispose();
  }
  return EXIT.ok;
}
