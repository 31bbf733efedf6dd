// Progress and per-epoch lines of the commands that work for long: the epoch summaries (train loss, dev loss,
// dev metrics) are printed even with --no-progress and hold the right numbers; evaluation and prediction draw
// a bar on a terminal (a pseudo-terminal made by util-linux `script`) and nothing when stderr is a pipe or
// with --no-progress.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { CLI, TINY_VILT, synthData } from '../helpers/train.js';

const tmp = mkdtempSync(join(tmpdir(), 'tandem-progress-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const data = synthData(join(tmp, 'data'), 48);
const run = join(tmp, 'run');
const train = (epochs: number) => [
  'train',
  ...TINY_VILT,
  '--max-length',
  '16',
  '--data',
  data,
  '--epochs',
  String(epochs),
  '--batch-size',
  '8',
  '--eval-batch-size',
  '2',
  '--seed',
  '4',
];
const hasScript = spawnSync('script', ['--version']).status === 0;
const noScript = !hasScript && 'needs util-linux `script` for a pseudo-terminal';

/** Runs `tandem ARGS` with stdout and stderr on a pseudo-terminal; returns everything the terminal got. */
function onTerminal(args: string[]): { status: number | null; out: string } {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const cmd = [process.execPath, CLI, ...args].map(quote).join(' ');
  const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: r.stdout };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const near = (printed: string, exact: number, what: string, tol = 5.1e-5) =>
  assert.ok(Math.abs(Number(printed) - exact) <= tol, `${what}: printed ${printed}, expected ${exact}`);

test('per-epoch lines with --no-progress: train loss and its parts, dev loss, dev metrics, no bar', () => {
  const r = runCli([...train(2), '--out', run, '--no-progress']);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /evaluating|#{4}/, 'no progress with --no-progress');
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('epoch '));
  assert.equal(lines.length, 2, r.stderr);
  const log = readFileSync(join(run, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);
  const results = JSON.parse(readFileSync(join(run, 'results.json'), 'utf8'));
  lines.forEach((line, e) => {
    const m = line.match(
      /^epoch (\d)\/2 \(step (\d+)\): train loss (\S+) \(ce (\S+) itc (\S+) itm (\S+)\) \| dev loss (\S+) \| dev f1_macro (\S+)( \(best\))? accuracy (\S+) f1_weighted (\S+)/,
    );
    assert.ok(m, line);
    assert.equal(Number(m[1]), e + 1);
    const steps = log.filter((s) => s.epoch === e);
    assert.equal(Number(m[2]), steps.at(-1)!.step);
    near(m[3]!, mean(steps.map((s) => s.loss!)), `epoch ${e + 1} train loss`);
    near(m[4]!, mean(steps.map((s) => s.ce!)), `epoch ${e + 1} ce`);
    near(m[5]!, mean(steps.map((s) => s.itc!)), `epoch ${e + 1} itc`);
    near(m[6]!, mean(steps.map((s) => s.itm!)), `epoch ${e + 1} itm`);
    const dev = results.dev_history[e].metrics;
    near(m[8]!, dev.f1_macro, 'dev f1_macro');
    near(m[10]!, dev.accuracy, 'dev accuracy');
    near(m[11]!, dev.f1_weighted, 'dev f1_weighted');
    assert.equal(m[9] !== undefined, results.best.epoch === e + 1, 'marked best when it is');
    if (results.best.epoch === e + 1) {
      // the dev loss is the mean cross-entropy of the dev posts: -log p(gold) from the saved predictions
      const preds = readFileSync(join(run, 'predictions-dev.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { gold: string; probabilities: Record<string, number> });
      near(m[7]!, mean(preds.map((p) => -Math.log(p.probabilities[p.gold]!))), 'dev loss', 1e-4);
    }
  });
});

test(
  'train, evaluate and predict draw progress on a terminal, not into a pipe nor with --no-progress',
  { skip: noScript },
  () => {
    const tty = onTerminal([...train(1), '--out', join(tmp, 'run-tty')]);
    assert.equal(tty.status, 0, tty.out);
    assert.match(tty.out, /\revaluating dev #*\.* \d+\/5 posts/);
    assert.match(tty.out, /\revaluating test #*\.* \d+\/5 posts/);
    assert.match(tty.out, /epoch 1\/1 \(step 5\): train loss/);

    const ev = ['evaluate', '--run', run, '--data', data, '--split', 'all', '--batch-size', '4'];
    const shown = onTerminal(ev);
    assert.equal(shown.status, 0, shown.out);
    assert.match(shown.out, /\revaluating #+\.* 4\/48 posts [\d.]+\/s eta /, 'the bar after the first batch');
    assert.ok(shown.out.includes('\r\x1b[K'), 'the bar is erased at the end');
    assert.match(shown.out, /f1_macro|macro avg/i, 'the report follows');
    const off = onTerminal([...ev, '--no-progress']);
    assert.equal(off.status, 0, off.out);
    assert.doesNotMatch(off.out, /evaluating/);
    const piped = runCli(ev);
    assert.equal(piped.status, 0, piped.stderr);
    assert.doesNotMatch(piped.stderr, /evaluating/);

    const pr = ['predict', '--run', run, '--input', data, '--batch-size', '16'];
    assert.match(onTerminal(pr).out, /\rpredicting #+\.* 16\/48 posts/);
    assert.doesNotMatch(runCli(pr).stderr, /predicting/);
  },
);
