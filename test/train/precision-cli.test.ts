// Training in bf16 (CPU autocast) end to end, on the same synthetic agreement task as train-cli.test.ts: it
// reaches the same dev macro F1 bound within the same step budget, records its precision, and kill -9 then
// --resume ends with the parameters of an uninterrupted bf16 run. fp16 on CPU is refused up front.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOLDEN, REPO_ROOT, runCli } from '../helpers/cli.js';
import { synthPosts } from '../helpers/train.js';
import { loadSafetensorsFile } from '../../src/io/tensors.js';
import { cpuBf16Features, tidy } from '../../src/tensor/index.js';

const VILT = join(GOLDEN, 'models', 'vilt');
const tmp = mkdtempSync(join(tmpdir(), 'tandem-precision-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const compiledCli = existsSync(join(REPO_ROOT, 'dist', 'src', 'cli', 'run.js'));

const synth = (name: string, args: string[]): string => synthPosts(join(tmp, name), args, 1);

const MODEL = ['--model', VILT, '--init', 'random', '--max-length', '16', '--head', 'mlp', '--no-progress'];
const BF16 = ['--precision', 'bf16'];

function logOf(run: string): { step: number; loss: number }[] {
  return readFileSync(join(run, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

test('bf16 learns text-image agreement to dev macro F1 >= 0.9 within 280 steps (as fp32 does)', () => {
  const data = synth('learn', ['--count', '400', '--match-rate', '0.7']);
  const out = join(tmp, 'learn-bf16');
  const args = ['--epochs', '14', '--batch-size', '16', '--lr', '4e-3', '--schedule', 'constant', '--patience', '0'];
  const r = runCli(['train', ...MODEL, ...BF16, '--data', data, '--out', out, ...args, '--aux', 'itc,itm', '--json'], {
    timeoutMs: 900_000,
  });
  assert.equal(r.status, 0, r.stderr);
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  assert.equal(results.precision, 'bf16');
  assert.equal(run.precision, 'bf16');
  assert.ok(results.steps <= 280, `took ${results.steps} steps`);
  const best = results.best.value as number;
  console.log(
    `bf16 dev macro F1 by epoch: ${results.dev_history.map((h: { metrics: { f1_macro: number } }) => h.metrics.f1_macro.toFixed(3)).join(' ')}; best ${best.toFixed(3)}; test ${results.test.f1_macro.toFixed(3)}`,
  );
  assert.ok(best >= 0.9, `best dev macro F1 ${best}`);
  // The final dev numbers are the best checkpoint's, measured once when it was chosen.
  assert.equal(results.dev.f1_macro, best);
  assert.ok(!existsSync(join(out, 'eval-features')), 'the per-run evaluation feature cache is removed at the end');
  // The saved weights are fp32 (master weights), not bf16.
  const w = loadSafetensorsFile(join(out, 'best', 'model.safetensors')).tensors;
  assert.deepEqual([...new Set([...w.values()].map((t) => t.dtype))], ['float32']);
  // evaluate uses the run's precision by default and reproduces the dev metrics.
  const ev = runCli(['evaluate', '--run', out, '--data', data, '--split', 'dev', '--json']);
  assert.equal(ev.status, 0, ev.stderr);
  assert.ok(Math.abs(JSON.parse(ev.stdout).metrics.f1_macro - best) < 1e-9, ev.stdout);
});

test('--precision fp16 on cpu and unknown precisions are refused with the flag named', () => {
  const data = synth('tiny', ['--count', '40']);
  const fp16 = runCli([
    'train',
    ...MODEL,
    '--data',
    data,
    '--out',
    join(tmp, 'fp16'),
    '--precision',
    'fp16',
    '--steps',
    '1',
  ]);
  assert.notEqual(fp16.status, 0);
  assert.match(fp16.stderr, /--precision fp16 needs a CUDA device/);
  const bad = runCli(['train', ...MODEL, '--data', data, '--out', join(tmp, 'fp8'), '--precision', 'fp8']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--precision fp8: expected one of fp32, bf16, fp16/);
});

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
  'bf16: kill -9 in the middle, then --resume, ends with the parameters of an uninterrupted bf16 run',
  { skip: !compiledCli && 'needs the compiled CLI (npm run build)' },
  async () => {
    const data = synth('small', ['--count', '120']);
    const small = [
      ...MODEL,
      ...BF16,
      '--data',
      data,
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
    ];
    const straight = join(tmp, 'straight');
    const r = runCli(['train', ...small, '--out', straight]);
    assert.equal(r.status, 0, r.stderr);
    const killed = join(tmp, 'killed');
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'dist', 'src', 'cli', 'run.js'), 'train', ...small, '--out', killed],
      {
        stdio: 'ignore',
      },
    );
    const done = new Promise<number | null>((res) => child.on('exit', (code, signal) => res(signal ? null : code)));
    await waitForStep(killed, 7);
    child.kill('SIGKILL');
    assert.equal(await done, null, 'the run was killed by the signal');
    const resumed = runCli(['train', '--resume', '--out', killed, '--no-progress']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /resuming .* at step 6/);
    const d = maxParamDiff(straight, killed);
    console.log(`bf16: max parameter difference after kill -9 and resume: ${d}`);
    assert.ok(d <= 1e-6, `parameters differ by ${d}`);
    assert.deepEqual(
      logOf(killed).map((x) => x.loss),
      logOf(straight).map((x) => x.loss),
      'the same losses step by step',
    );
    // And bf16 is not fp32: the same run in fp32 ends elsewhere.
    const fp32 = join(tmp, 'fp32');
    const f = runCli(['train', ...small.filter((a) => a !== '--precision' && a !== 'bf16'), '--out', fp32]);
    assert.equal(f.status, 0, f.stderr);
    // A fp32 run on a CPU with bf16 instructions says once that bf16 is available; a bf16 run does not.
    if (cpuBf16Features().length > 0) {
      assert.equal(f.stderr.match(/--precision bf16 trains and predicts faster/g)?.length, 1, f.stderr);
      assert.match(f.stderr, /this CPU has (avx512_bf16|amx_bf16)/);
    }
    assert.doesNotMatch(r.stderr, /--precision bf16 trains/);
    const dfp = maxParamDiff(straight, fp32);
    console.log(`bf16 vs fp32 run: max parameter difference ${dfp}`);
    assert.ok(dfp > 1e-5, 'bf16 training changed the arithmetic');
  },
);
