// The training command end to end on synthetic posts whose label says whether the text and the image agree:
// it learns, the auxiliary losses fall, kill -9 then --resume ends where an uninterrupted run ends, Ctrl-C
// saves a resumable checkpoint, bad rows are reported, a batch of one trains, and evaluate / predict work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOLDEN, REPO_ROOT, runCli } from '../helpers/cli.js';
import { TINY_LATE_FUSION, synthPosts } from '../helpers/train.js';
import { loadSafetensorsFile } from '../../src/io/tensors.js';
import { tidy } from '../../src/tensor/index.js';

const VILT = join(GOLDEN, 'models', 'vilt');
const tmp = mkdtempSync(join(tmpdir(), 'tandem-train-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const synth = (name: string, args: string[]): string => synthPosts(join(tmp, name), args, 1);

// Tiny ViLT (the golden config: hidden 32, 2 layers, 8-px patches) with random weights.
const MODEL = ['--model', VILT, '--init', 'random', '--max-length', '16', '--head', 'mlp', '--no-progress'];

function logOf(run: string): { step: number; ce: number; itc?: number; itm?: number; loss: number }[] {
  return readFileSync(join(run, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}
const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

const learnData = synth('learn', ['--count', '400', '--match-rate', '0.7']);
const learnRun = join(tmp, 'learn-run');

test('learns text-image agreement to dev macro F1 >= 0.9 within 280 steps, and ITC and ITM fall', () => {
  const r = runCli(
    [
      'train',
      ...MODEL,
      '--data',
      learnData,
      '--out',
      learnRun,
      '--epochs',
      '14',
      '--batch-size',
      '16',
      '--lr',
      '4e-3',
      // Tuned with tandem's preset (10% warm-up, clipping at 1.0, no decay on biases/LayerNorm); the schedule
      // after the warm-up constant and no early stopping, as before presets existed.
      '--preset',
      'tandem',
      '--schedule',
      'constant',
      '--patience',
      '0',
      '--aux',
      'itc,itm',
      '--json',
    ],
    { timeoutMs: 600_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const results = JSON.parse(readFileSync(join(learnRun, 'results.json'), 'utf8'));
  assert.equal(results.status, 'finished');
  assert.ok(results.steps <= 280, `took ${results.steps} steps`);
  assert.equal(results.init, 'random');
  assert.match(results.warning, /randomly initialised/);
  const best = results.best.value as number;
  console.log(
    `dev macro F1 by epoch: ${results.dev_history.map((h: { metrics: { f1_macro: number } }) => h.metrics.f1_macro.toFixed(3)).join(' ')}; best ${best.toFixed(3)}; test ${results.test.f1_macro.toFixed(3)}`,
  );
  assert.ok(best >= 0.9, `best dev macro F1 ${best}`);
  assert.equal(results.dev.f1_macro, best);
  const log = logOf(learnRun);
  const first = log.slice(0, 40);
  const last = log.slice(-40);
  const itc = [meanOf(first.map((x) => x.itc!)), meanOf(last.map((x) => x.itc!))];
  const itm = [meanOf(first.map((x) => x.itm!)), meanOf(last.map((x) => x.itm!))];
  console.log(`ITC ${itc[0]!.toFixed(3)} -> ${itc[1]!.toFixed(3)}; ITM ${itm[0]!.toFixed(3)} -> ${itm[1]!.toFixed(3)}`);
  assert.ok(itc[1]! < 0.5 * itc[0]!, `ITC ${itc}`);
  assert.ok(itm[1]! < itm[0]!, `ITM ${itm}`);
  // The run folder: best and last are model folders with tokenizer and processor files.
  for (const f of [
    'config.json',
    'model.safetensors',
    'tokenizer.json',
    'preprocessor_config.json',
    'optimizer.safetensors',
    'trainer_state.json',
  ])
    assert.ok(existsSync(join(learnRun, 'last', f)), `last/${f}`);
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'preprocessor_config.json'])
    assert.ok(existsSync(join(learnRun, 'best', f)), `best/${f}`);
});

test('evaluate and predict use the best checkpoint', () => {
  const predFile = join(tmp, 'dev-predictions.jsonl');
  const ev = runCli([
    'evaluate',
    '--run',
    learnRun,
    '--data',
    learnData,
    '--split',
    'dev',
    '--json',
    '--predictions',
    predFile,
  ]);
  assert.equal(ev.status, 0, ev.stderr);
  const out = JSON.parse(ev.stdout);
  const written = readFileSync(predFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(written.length, out.n);
  const correct = written.filter((w) => w.label === w.gold).length;
  assert.ok(Math.abs(correct / written.length - out.metrics.accuracy) < 1e-12);
  const results = JSON.parse(readFileSync(join(learnRun, 'results.json'), 'utf8'));
  assert.ok(Math.abs(out.metrics.f1_macro - results.dev.f1_macro) < 1e-9);
  assert.equal(out.metrics.n, results.data.dev);
  const rows = readFileSync(learnData, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const one = rows.find((r) => r.split === 'test')!;
  const p = runCli([
    'predict',
    '--run',
    learnRun,
    '--text',
    one.text,
    '--image',
    join(tmp, 'learn', one.image),
    '--json',
  ]);
  assert.equal(p.status, 0, p.stderr);
  const pred = JSON.parse(p.stdout);
  assert.ok(['match', 'mismatch'].includes(pred.label));
  assert.ok(Math.abs(pred.probabilities.match + pred.probabilities.mismatch - 1) < 1e-5);
  const many = runCli(['predict', '--run', join(learnRun, 'best'), '--input', learnData, '--json']);
  assert.equal(many.status, 0, many.stderr);
  assert.equal(many.stdout.trim().split('\n').length, rows.length);
  // A run checkpoint is a model folder that training continues from.
  const further = join(tmp, 'further');
  const t = runCli([
    'train',
    '--model',
    join(learnRun, 'best'),
    '--data',
    learnData,
    '--out',
    further,
    '--steps',
    '2',
    '--epochs',
    '1',
    '--no-progress',
    '--json',
  ]);
  assert.equal(t.status, 0, t.stderr);
  // Two steps at the default lr from the trained weights: still as good on dev (random weights are not).
  assert.ok(JSON.parse(t.stdout).dev.f1_macro >= 0.9, t.stdout);
  assert.ok(existsSync(join(further, 'best', 'tokenizer.json')));
  const bad = runCli(['predict', '--run', learnRun, '--text', 'x', '--image', join(tmp, 'nope.png')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /nope\.png: no such file/);
});

const smallData = synth('small', ['--count', '120']);
const SMALL = [
  ...MODEL,
  '--data',
  smallData,
  '--epochs',
  '2',
  '--batch-size',
  '8',
  '--lr',
  '3e-3',
  '--save-every',
  '3',
  '--seed',
  '5',
  // Warm-up, decay and clipping, so that resuming has a schedule position to restore.
  '--preset',
  'tandem',
];

function startTrain(args: string[]) {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'src', 'cli', 'run.js'), 'train', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<number | null>((res) => child.on('exit', (code, signal) => res(signal ? null : code)));
  return { child, done, stderr: () => stderr };
}

async function waitForStep(run: string, step: number, timeoutMs = 120_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    const path = join(run, 'log.jsonl');
    if (existsSync(path) && readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).length >= step) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no step ${step} in ${run} after ${timeoutMs} ms`);
}

function maxParamDiff(a: string, b: string): number {
  const ta = loadSafetensorsFile(join(a, 'last', 'model.safetensors')).tensors;
  const tb = loadSafetensorsFile(join(b, 'last', 'model.safetensors')).tensors;
  assert.deepEqual([...ta.keys()].sort(), [...tb.keys()].sort());
  return tidy(() => Math.max(...[...ta].map(([k, t]) => t.sub(tb.get(k)!).abs().max().item())));
}

test(
  'kill -9 in the middle, then --resume, ends with the parameters of an uninterrupted run',
  { skip: !existsSync(join(REPO_ROOT, 'dist', 'src', 'cli', 'run.js')) && 'needs the compiled CLI (npm run build)' },
  async () => {
    const straight = join(tmp, 'straight');
    const r = runCli(['train', ...SMALL, '--out', straight]);
    assert.equal(r.status, 0, r.stderr);
    const killed = join(tmp, 'killed');
    const run = startTrain([...SMALL, '--out', killed]);
    await waitForStep(killed, 7);
    run.child.kill('SIGKILL');
    assert.equal(await run.done, null, 'the run was killed by the signal');
    assert.ok(!existsSync(join(killed, 'results.json')), 'killed before it finished');
    const resumed = runCli(['train', '--resume', '--out', killed, '--no-progress']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /resuming .* at step 6/);
    const d = maxParamDiff(straight, killed);
    console.log(`max parameter difference after kill -9 and resume: ${d}`);
    assert.ok(d <= 1e-6, `parameters differ by ${d}`);
    const steps = logOf(killed).map((x) => x.step);
    assert.deepEqual(
      steps,
      logOf(straight).map((x) => x.step),
      'the log holds each step once',
    );
  },
);

test(
  'Ctrl-C saves a resumable checkpoint and exits 130',
  { skip: !existsSync(join(REPO_ROOT, 'dist', 'src', 'cli', 'run.js')) && 'needs the compiled CLI' },
  async () => {
    const out = join(tmp, 'interrupted');
    const run = startTrain([...SMALL, '--out', out]);
    await waitForStep(out, 2);
    run.child.kill('SIGINT');
    assert.equal(await run.done, 130, run.stderr());
    assert.match(run.stderr(), /tandem train --resume --out/);
    const state = JSON.parse(readFileSync(join(out, 'last', 'trainer_state.json'), 'utf8'));
    assert.equal(state.finished, false);
    assert.ok(state.step >= 2);
    const again = runCli(['train', ...SMALL, '--out', out]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /already holds files \(.*\): pass --resume to continue the run it holds, --overwrite/);
    const resumed = runCli(['train', '--resume', '--out', out, '--no-progress']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.ok(existsSync(join(out, 'results.json')));
  },
);

test('bad rows: an error names the file and line; skip leaves them out and counts them', () => {
  const dir = join(tmp, 'small');
  const lines = readFileSync(smallData, 'utf8').trim().split('\n');
  const rows = lines.map((l) => JSON.parse(l));
  const train = rows.map((r, i) => (r.split === 'train' ? i : -1)).filter((i) => i >= 0);
  const firstDev = rows.findIndex((r) => r.split === 'dev');
  rows[train[0]!].image = 'images/missing.png';
  rows[train[1]!].text = '   ';
  writeFileSync(join(dir, 'images', 'garbage.png'), 'not an image at all');
  rows[train[2]!].image = 'images/garbage.png';
  rows[firstDev].label = 'unheard-of';
  const bad = join(dir, 'bad.jsonl');
  const text = rows.map((r) => JSON.stringify(r));
  text.splice(40, 0, '{"id": "broken", "text": "no closing brace"');
  writeFileSync(bad, text.join('\n') + '\n');
  const args = [...MODEL, '--data', bad, '--epochs', '1', '--batch-size', '8', '--steps', '2'];
  const e = runCli(['train', ...args, '--out', join(tmp, 'bad-error')]);
  assert.equal(e.status, 2, e.stderr);
  assert.match(e.stderr, /bad\.jsonl:41: not valid JSON/);
  text.splice(40, 1);
  writeFileSync(bad, text.join('\n') + '\n');
  const e2 = runCli(['train', ...args, '--out', join(tmp, 'bad-error-2')]);
  assert.equal(e2.status, 2, e2.stderr);
  assert.match(e2.stderr, new RegExp(`bad\\.jsonl:${train[0]! + 1}\\).*missing-image.*and 2 more bad rows`));
  text.splice(40, 0, '{"id": "broken", "text": "no closing brace"');
  writeFileSync(bad, text.join('\n') + '\n');
  // --no-progress (in MODEL) hides progress, never what the data lost
  const s = runCli(['train', ...args, '--out', join(tmp, 'bad-skip'), '--on-bad-row', 'skip', '--json']);
  assert.equal(s.status, 0, s.stderr);
  const res = JSON.parse(readFileSync(join(tmp, 'bad-skip', 'results.json'), 'utf8'));
  // the names the README gives: everything --on-bad-row skip left out under data.bad_rows, malformed lines too
  assert.deepEqual(res.data.bad_rows, {
    'malformed-line': 1,
    'missing-image': 1,
    'empty-text': 1,
    'unreadable-image': 1,
    'unknown-label': 1,
  });
  assert.deepEqual(res.data.bad_rows_by_split.dev, { 'unknown-label': 1 });
  assert.deepEqual(res.data.dropped, {});
  // the summary on stderr: per split and reason the count and ids, the line, the path of the missing image
  const q = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const missing = rows[train[0]!].id;
  assert.match(
    s.stderr,
    new RegExp(`${q(bad)}: lines left out \\(--on-bad-row skip\\): 1 post\\n  malformed-line 1 — line 41\\n`),
  );
  assert.match(s.stderr, /train split: bad rows skipped \(--on-bad-row skip\): 3 posts\n/);
  assert.match(
    s.stderr,
    new RegExp(
      `  missing-image 1 — id ${missing}\\n    post ${missing} \\(${q(bad)}:${train[0]! + (train[0]! >= 40 ? 2 : 1)}\\): image file not found: ${q(join(dir, 'images', 'missing.png'))}; image paths in ${q(bad)} are relative to ${q(dir)}\\n`,
    ),
  );
  assert.match(s.stderr, new RegExp(`  empty-text 1 — id ${rows[train[1]!].id}\\n`));
  assert.match(
    s.stderr,
    new RegExp(
      `dev split: bad rows skipped \\(--on-bad-row skip\\): 1 post\\n  unknown-label 1 — id ${rows[firstDev].id}\\n`,
    ),
  );
  // evaluate and predict take the same flags and report the posts they skip, with the counts in their outputs
  const ev = runCli(['evaluate', '--run', join(tmp, 'bad-skip'), '--data', bad, '--split', 'train']);
  assert.equal(ev.status, 2, ev.stderr);
  assert.match(ev.stderr, /bad\.jsonl:41: not valid JSON/);
  const evSkip = runCli([
    'evaluate',
    '--run',
    join(tmp, 'bad-skip'),
    '--data',
    bad,
    '--split',
    'train',
    '--on-bad-row',
    'skip',
  ]);
  assert.equal(evSkip.status, 0, evSkip.stderr);
  const kept = rows.filter((r) => r.split === 'train').length - 3;
  assert.match(
    evSkip.stdout,
    new RegExp(
      `\\(train, ${kept} posts; 4 skipped: malformed-line 1 — line 41; [a-z-]+ 1 — id [^;]+; [a-z-]+ 1 — id [^;]+; [a-z-]+ 1 — id [^)]+\\)`,
    ),
  );
  assert.match(evSkip.stdout, new RegExp(`missing-image 1 — id ${missing}[;)]`));
  assert.match(evSkip.stderr, new RegExp(`image file not found: ${q(join(dir, 'images', 'missing.png'))}`));
  const evJson = runCli([
    'evaluate',
    '--run',
    join(tmp, 'bad-skip'),
    '--data',
    bad,
    '--split',
    'train',
    '--on-bad-row',
    'skip',
    '--json',
  ]);
  const evOut = JSON.parse(evJson.stdout);
  assert.equal(evOut.n, kept);
  assert.equal(evOut.skipped, 4);
  assert.deepEqual(evOut.bad_rows, { 'malformed-line': 1, 'missing-image': 1, 'empty-text': 1, 'unreadable-image': 1 });
  const pr = runCli(['predict', '--run', join(tmp, 'bad-skip'), '--input', bad, '--on-bad-row', 'skip', '--json']);
  assert.equal(pr.status, 0, pr.stderr);
  const answers = pr.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(answers.length, rows.length, 'one line per post (the malformed line is no post)');
  assert.deepEqual(
    answers
      .filter((a) => a.skipped)
      .map((a) => a.skipped)
      .sort(),
    ['empty-text', 'missing-image', 'unreadable-image'],
  );
  assert.match(pr.stderr, /tandem predict: posts skipped \(--on-bad-row skip\); no prediction for them: 4 posts\n/);
  unlinkSync(bad);
});

test('a batch of one trains with ITC and ITM', () => {
  const out = join(tmp, 'batch-one');
  const r = runCli([
    'train',
    ...MODEL,
    '--data',
    smallData,
    '--out',
    out,
    '--batch-size',
    '1',
    '--steps',
    '4',
    '--epochs',
    '1',
    '--aux',
    'itc,itm',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const log = logOf(out);
  assert.equal(log.length, 4);
  for (const x of log) {
    assert.ok(Number.isFinite(x.loss) && Number.isFinite(x.itc!) && Number.isFinite(x.itm!));
    assert.ok(Math.abs(x.itc!) < 1e-6, 'one candidate: ITC is zero');
  }
});

test('a frozen image encoder with --feature-cache trains exactly as without it, and the cache fills once', () => {
  const lf = [...TINY_LATE_FUSION, '--no-progress'];
  const common = [...lf, '--data', smallData, '--epochs', '1', '--batch-size', '8', '--seed', '3'];
  const plain = join(tmp, 'fc-plain');
  const cached = join(tmp, 'fc-cached');
  const cache = join(tmp, 'features');
  assert.equal(runCli(['train', ...common, '--out', plain]).status, 0);
  const first = runCli(['train', ...common, '--out', cached, '--feature-cache', cache]);
  assert.equal(first.status, 0, first.stderr);
  const count = () => readdirSync(cache, { recursive: true }).filter((f) => String(f).endsWith('.safetensors')).length;
  const n = count();
  assert.equal(n, 120, 'one cached feature file per image');
  assert.equal(maxParamDiff(plain, cached), 0);
  const again = join(tmp, 'fc-again');
  assert.equal(runCli(['train', ...common, '--out', again, '--feature-cache', cache]).status, 0);
  assert.equal(count(), n);
  assert.equal(maxParamDiff(plain, again), 0);
});

test('--init random --config merges a tiny config into the recipe and results say the weights are random', () => {
  const cfg = join(tmp, 'tiny.json');
  writeFileSync(
    cfg,
    JSON.stringify({
      model_config: { num_hidden_layers: 1, hidden_size: 16, num_attention_heads: 2, intermediate_size: 24 },
    }),
  );
  const out = join(tmp, 'tiny-config');
  const r = runCli([
    'train',
    ...MODEL,
    '--config',
    cfg,
    '--data',
    smallData,
    '--out',
    out,
    '--steps',
    '2',
    '--epochs',
    '1',
  ]);
  assert.equal(r.status, 0, r.stderr);
  const saved = JSON.parse(readFileSync(join(out, 'best', 'config.json'), 'utf8'));
  assert.equal(saved.tandem.model_config.num_hidden_layers, 1);
  assert.equal(saved.tandem.model_config.hidden_size, 16);
  const names = [...loadSafetensorsFile(join(out, 'best', 'model.safetensors')).tensors.keys()];
  assert.ok(names.some((n) => n.includes('encoder.layer.0.')));
  assert.ok(!names.some((n) => n.includes('encoder.layer.1.')));
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  assert.equal(results.init, 'random');
  const wrong = runCli(['train', '--model', VILT, '--config', cfg, '--data', smallData, '--out', join(tmp, 'x')]);
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, /--config applies with --init random/);
});

test('gradient accumulation: 2 x 4 posts per step equals 8 posts per step', () => {
  const common = [
    ...MODEL,
    '--data',
    smallData,
    '--epochs',
    '1',
    '--steps',
    '3',
    '--aux',
    'none',
    '--class-weights',
    'none',
    '--dropout',
    '0',
    '--lr',
    '1e-3',
    // Clipping on (tandem's preset): it must act on the accumulated gradient, not on each micro-batch.
    '--preset',
    'tandem',
  ];
  const whole = join(tmp, 'accum-whole');
  const parts = join(tmp, 'accum-parts');
  assert.equal(runCli(['train', ...common, '--batch-size', '8', '--out', whole]).status, 0);
  const r = runCli(['train', ...common, '--batch-size', '4', '--grad-accum', '2', '--out', parts]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(logOf(parts).length, 3);
  const d = maxParamDiff(whole, parts);
  console.log(`max parameter difference, accumulated vs whole batches: ${d}`);
  assert.ok(d < 1e-5, `parameters differ by ${d}`);
});

test('--missing-image blank trains text-only posts on one blank image and counts them', () => {
  const rows = readFileSync(smallData, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  for (const i of [1, 2, 3]) rows[i].image = null;
  rows[4].image = 'images/gone.png';
  const file = join(tmp, 'small', 'text-only.jsonl');
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const args = [...MODEL, '--data', file, '--epochs', '1', '--steps', '2', '--batch-size', '8'];
  const strict = runCli(['train', ...args, '--out', join(tmp, 'text-only-strict')]);
  assert.equal(strict.status, 2);
  assert.match(strict.stderr, /missing-image/);
  const out = join(tmp, 'text-only');
  const r = runCli(['train', ...args, '--out', out, '--missing-image', 'blank']);
  assert.equal(r.status, 0, r.stderr);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  assert.equal(results.data.blank_images, 4);
  assert.deepEqual(results.data.bad_rows, {});
  assert.equal(results.data.train + results.data.dev + results.data.test, rows.length);
  assert.ok(existsSync(join(out, 'blank-image.png')));
  // evaluate and predict on the same posts use the run's blank image too
  const ev = runCli(['evaluate', '--run', out, '--data', file, '--split', 'all', '--json']);
  assert.equal(ev.status, 0, ev.stderr);
  assert.equal(JSON.parse(ev.stdout).n, rows.length);
  const pr = runCli(['predict', '--run', out, '--input', file, '--json']);
  assert.equal(pr.status, 0, pr.stderr);
  assert.equal(pr.stdout.trim().split('\n').length, rows.length);
});
