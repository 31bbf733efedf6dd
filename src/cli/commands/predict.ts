// `tandem predict`: labels and class probabilities for new posts from a trained run.
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { loadDataset } from '../../data/formats/index.js';
import { DataError, type LoadResult, type Row } from '../../data/rows.js';
import { groupsOf, type LeftOutGroup } from '../../data/left-out.js';
import { labelPredictions, openRun } from '../../inference/index.js';
import { PREDICT_BATCH_SIZE } from '../../train/defaults.js';
import { CountProgress } from '../../runtime/progress.js';
import { CliError, EXIT } from '../args.js';
import { defineCommand, deviceFlag, deviceOption, parseCommand, precisionOption } from '../options.js';
import { missingImageModelOption, onBadRowOption, printLeftOut } from '../data-flags.js';

export const PREDICT = defineCommand({
  name: 'predict',
  usage: ['tandem predict --run runs/NAME (--text T --image I | --input posts.jsonl) [--json]'],
  // a one-modality run (text-only, image-only) takes only what it reads: --text alone or --image alone
  description: 'Predicts the label of each post with a trained run (its best checkpoint).',
  options: {
    precision: precisionOption("forward passes in fp32 or under bf16/fp16 (CUDA) autocast (default: the run's)"),
    device: deviceOption('cpu or cuda[:N]: where the model runs'),
    run: { type: 'string', required: true, placeholder: 'R', help: 'run folder (uses R/best) or a checkpoint folder' },
    checkpoint: { type: 'enum', choices: ['best', 'last'], default: 'best', help: 'which checkpoint of a run folder' },
    text: { type: 'string', placeholder: 'T', help: 'the text of one post (with --image; alone for a text-only run)' },
    image: {
      type: 'string',
      placeholder: 'I',
      help: 'the image file of one post (with --text; alone for an image-only run)',
    },
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
    'no-progress': { type: 'boolean', help: 'no progress bar (it is drawn on stderr only when that is a terminal)' },
  },
  footer: 'Exit codes: 0 done, 1 failure, 2 bad input.',
});

export const specs = [PREDICT];

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(PREDICT, argv);
  if (!a) return EXIT.ok;
  const v = a.values;
  const device = deviceFlag(v.device);
  const single = v.text !== undefined || v.image !== undefined;
  if (single === (v.input !== undefined)) throw new CliError('give either --text and --image, or --input');
  // paths before the model is loaded
  if (v.image !== undefined && !existsSync(v.image)) throw new CliError(`--image ${v.image}: no such file`);
  const which = v.checkpoint;
  let loaded;
  try {
    loaded = openRun(v.run, which, device);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const policy = v['on-bad-row'];
  let rows: Row[];
  let fromFile: LoadResult | undefined;
  if (single) {
    // one post: exactly what the run's model reads (both for an image-text model)
    const reads = loaded.modalities;
    const what = `${v.run} (recipe ${loaded.model.recipe}) reads ${reads.length === 2 ? 'the text and the image' : `only the ${reads[0]}`} of a post`;
    for (const [flag, modality, value] of [
      ['text', 'text', v.text],
      ['image', 'image', v.image],
    ] as const) {
      if (reads.includes(modality) && value === undefined) throw new CliError(`--${flag} is required: ${what}`);
      if (!reads.includes(modality) && value !== undefined) throw new CliError(`--${flag} does not apply: ${what}`);
    }
    rows = [{ id: 'post', text: v.text ?? '', image: v.image === undefined ? null : resolve(v.image) }];
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
  try {
    let result;
    // (one post given on the command line needs no bar)
    const shown = new CountProgress('predicting', undefined, { enabled: !single && !v['no-progress'] });
    try {
      result = await loaded.predict(rows, {
        withLabels: false,
        onBadRow: policy,
        batchSize: v['batch-size'],
        ...(v['missing-image'] ? { missingImage: v['missing-image'] } : {}),
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
