// `tandem predict`: labels and class probabilities for new posts from a trained run.
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { loadDataset } from '../../data/formats/index.js';
import { DataError, type LoadResult, type Row } from '../../data/rows.js';
import { groupsOf, type LeftOutGroup } from '../../data/left-out.js';
import { labelPredictions, openRun } from '../../inference/index.js';
import { PREDICT_BATCH_SIZE } from '../../train/defaults.js';
import { CliError, EXIT } from '../args.js';
import { defineCommand, parseCommand, precisionOption } from '../options.js';
import { missingImageModelOption, onBadRowOption, printLeftOut } from '../data-flags.js';

export const PREDICT = defineCommand({
  name: 'predict',
  usage: ['tandem predict --run runs/NAME (--text T --image I | --input posts.jsonl) [--json]'],
  description: 'Predicts the label of each post with a trained run (its best checkpoint).',
  options: {
    precision: precisionOption("forward passes in fp32 or under bf16/fp16 (CUDA) autocast (default: the run's)"),
    run: { type: 'string', required: true, placeholder: 'R', help: 'run folder (uses R/best) or a checkpoint folder' },
    checkpoint: { type: 'enum', choices: ['best', 'last'], default: 'best', help: 'which checkpoint of a run folder' },
    text: { type: 'string', placeholder: 'T', help: 'the text of one post (with --image)' },
    image: { type: 'string', placeholder: 'I', help: 'the image file of one post (with --text)' },
    input: {
      type: 'string',
      placeholder: 'FILE',
      help: 'posts in the generic format (JSONL or CSV: id, text, image; labels ignored)',
    },
    'on-bad-row': onBadRowOption(
      'error',
      'with --input, a post with a missing or unreadable image, empty text, or a malformed line',
    ),
    'missing-image': missingImageModelOption(
      'posts without an image: bad rows, or the blank image runs trained with --missing-image blank use',
      { defaultText: "the run's (blank when it trained with blank, else bad-row)" },
    ),
    'batch-size': { type: 'int', default: PREDICT_BATCH_SIZE, min: 1, help: 'posts per forward pass' },
    json: {
      type: 'boolean',
      help: 'one JSON object per post: id, label, probabilities (a post left out by --on-bad-row skip: id, skipped, detail)',
    },
  },
  footer: 'Exit codes: 0 done, 1 failure, 2 bad input.',
});

export const specs = [PREDICT];

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(PREDICT, argv);
  if (!a) return EXIT.ok;
  const v = a.values;
  const single = v.text !== undefined || v.image !== undefined;
  if (single === (v.input !== undefined)) throw new CliError('give either --text and --image, or --input');
  const policy = v['on-bad-row'];
  let rows: Row[];
  let fromFile: LoadResult | undefined;
  if (single) {
    if (v.text === undefined || v.image === undefined) throw new CliError('--text and --image go together');
    if (!existsSync(v.image)) throw new CliError(`--image ${v.image}: no such file`);
    rows = [{ id: 'post', text: v.text, image: resolve(v.image) }];
  } else {
    try {
      fromFile = loadDataset('generic', resolve(v.input!), {
        noSaveSplit: true,
        onMissingImage: 'keep',
        onMalformedLine: policy,
      });
      rows = fromFile.rows;
    } catch (e) {
      if (e instanceof DataError) throw new CliError(e.message);
      throw e;
    }
  }
  const which = v.checkpoint;
  let loaded;
  try {
    loaded = openRun(v.run, which);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  try {
    let result;
    try {
      result = await loaded.predict(rows, {
        withLabels: false,
        onBadRow: policy,
        batchSize: v['batch-size'],
        ...(v['missing-image'] ? { missingImage: v['missing-image'] } : {}),
        ...(v.precision ? { precision: v.precision } : {}),
      });
    } catch (e) {
      if (e instanceof DataError) throw new CliError(e.message);
      throw e;
    }
    const { pred, skipped } = result;
    const groups: LeftOutGroup[] = [
      ...(fromFile ? groupsOf(fromFile.badRows, fromFile.leftOut) : []),
      ...skipped.groups(),
    ];
    printLeftOut('predict', `posts skipped (--on-bad-row ${policy}); no prediction for them`, groups);
    for (const p of labelPredictions(pred, loaded.labelNames, loaded.multiLabel)) {
      if (v.json) console.log(JSON.stringify({ id: p.id, label: p.label, probabilities: p.probabilities }));
      else console.log(`${p.id}\t${Array.isArray(p.label) ? p.label.join(',') : p.label}\t${p.score.toFixed(4)}`);
    }
    if (v.json)
      // every post of the input answers: a skipped one (after the predictions) says why
      for (const b of skipped.rows) console.log(JSON.stringify({ id: b.id, skipped: b.reason, detail: b.detail }));
  } finally {
    loaded.model.dispose();
  }
  return EXIT.ok;
}
