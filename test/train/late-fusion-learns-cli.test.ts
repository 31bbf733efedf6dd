// The paper's late fusion (`--recipe late-fusion --fusion concat`: first-token states, fusion layer
// Linear + ReLU shared by the classifier and the ITM head) learns, through the CLI, the synthetic agreement
// task (label: do the text's colour and the image's colour agree), and its ITM loss falls. Both need the
// ReLU of the fusion layer: without it the classifier and the ITM head score a pair as a·t + b·v + c, which
// cannot tell agreement (nor a swapped pair from a matched one) from the two sides separately.
//
// Settings, and why (found by probing the synthetic data with the tiny random encoders through the CLI):
// - the paper's learning rate (1e-5) moves a randomly initialised tiny model nowhere in a few hundred steps
//   (dev F1 stays at the one-class 0.34), so the rate is 3e-3, with tandem's warm-up and clipping;
// - the frozen random ViT's [CLS] state carries the image's colour (a classifier on it reaches dev F1 1.0)
//   but weakly (its CE only falls to 0.32), and with it frozen neither ITM nor, with ITC + ITM on, the
//   agreement is learned in 20 epochs; trained (--train-image-encoder), ITM falls from step ~200 on.
// The agreement itself is an XOR of the two colours: with CE alone and the image encoder frozen, concat
// learns it (dev F1 0.92 to 1.0) only after a plateau of 12 to 15 epochs; with ITC + ITM on, 14 epochs
// do not get past it (best dev F1 0.55), so the bound on F1 below is only above the one-class predictor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { TINY_LATE_FUSION, synthPosts } from '../helpers/train.js';

const tmp = mkdtempSync(join(tmpdir(), 'tandem-late-fusion-learns-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

// 70% agreeing posts: a matched (original) pair then agrees in colour more often than a swapped one, which
// gives ITM a colour-agreement signal besides the shape's.
const data = synthPosts(join(tmp, 'data'), ['--count', '400', '--match-rate', '0.7'], 1);
const run = join(tmp, 'run');

/** Number of log lines averaged at each end of the run. */
const K = 40;
/** Bounds, set from the figures observed (printed by the test). */
/** Observed: best 0.549 (always one class: 0.34 to 0.41). */
const BEST_F1 = 0.5;
/** Observed: 0.700 -> 0.574 (drop 0.126); without the ReLU the ITM loss stays at 0.69-0.70. */
const ITM_DROP = 0.06;
const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test("late fusion with the paper's concat (ReLU fusion layer): dev F1 above one class, and the ITM loss falls", () => {
  const t0 = Date.now();
  const r = runCli(
    [
      'train',
      '--recipe',
      'late-fusion',
      '--fusion',
      'concat',
      ...TINY_LATE_FUSION,
      '--train-image-encoder',
      '--data',
      data,
      '--out',
      run,
      '--aux',
      'itc,itm',
      '--epochs',
      '14',
      '--batch-size',
      '16',
      '--lr',
      '3e-3',
      '--preset',
      'tandem',
      '--schedule',
      'constant',
      '--patience',
      '0',
      '--seed',
      '7',
      '--no-progress',
    ],
    { timeoutMs: 600_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const results = JSON.parse(readFileSync(join(run, 'results.json'), 'utf8'));
  const spec = JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')).spec;
  assert.equal(spec.recipe, 'late-fusion');
  assert.equal(spec.fusion, 'concat');
  const best = results.best.value as number;
  const log = readFileSync(join(run, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { itm: number; ce: number });
  const itm = [meanOf(log.slice(0, K).map((x) => x.itm)), meanOf(log.slice(-K).map((x) => x.itm))] as const;
  console.log(
    `late-fusion concat: dev macro F1 by epoch ${results.dev_history.map((h: { metrics: { f1_macro: number } }) => h.metrics.f1_macro.toFixed(3)).join(' ')}; best ${best.toFixed(3)}; ` +
      `ITM mean of the first ${K} steps ${itm[0].toFixed(4)}, of the last ${K} ${itm[1].toFixed(4)} (${log.length} steps, ${((Date.now() - t0) / 1000).toFixed(0)} s)`,
  );
  // Always one class scores 0.34 to 0.41 on this dev split.
  assert.ok(best >= BEST_F1, `best dev macro F1 ${best.toFixed(3)} < ${BEST_F1}`);
  assert.ok(
    itm[0] - itm[1] >= ITM_DROP,
    `ITM ${itm[0].toFixed(4)} -> ${itm[1].toFixed(4)}: fell by less than ${ITM_DROP}`,
  );
});
