// Data parallelism on c10d (Gloo on this CPU): collectives and the gathered ITC loss against the
// single-process computation, 2 processes × batch 8 against 1 process × batch 16 (CE + ITC with global
// negatives), the same under torchrun, and a rank killed with kill -9: the other stops naming it, and
// --resume of the whole job ends with the parameters of an uninterrupted 2-process run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { loadSafetensorsFile } from '../../src/io/tensors.js';
import { itcLoss } from '../../src/objectives/index.js';
import { tidy } from '../../src/tensor/index.js';
import { firstSlurmHost, processGroupFromEnv } from '../../src/tensor/distributed.js';
import { ITC_BATCH, itcInputs } from './dist-cases.js';

const RUN_JS = join(REPO_ROOT, 'dist', 'src', 'cli', 'run.js');
const compiled = import.meta.url.endsWith('.js');
const tmp = mkdtempSync(join(tmpdir(), 'tandem-dp-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address() as { port: number };
      s.close(() => res(a.port));
    });
  });
}

function rankEnv(port: number, rank: number, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    MASTER_ADDR: '127.0.0.1',
    MASTER_PORT: String(port),
    RANK: String(rank),
    LOCAL_RANK: String(rank),
    WORLD_SIZE: '2',
    TANDEM_NUM_THREADS: '1',
    ...extra,
  };
}

function spawnRank(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; ms: number }>((res) => {
    const t0 = Date.now();
    child.on('exit', (code) => res({ code, ms: Date.now() - t0 }));
  });
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

test('the launch environment: torchrun variables, SLURM variables, a single process', () => {
  assert.equal(processGroupFromEnv({}), null);
  assert.deepEqual(
    processGroupFromEnv({ MASTER_ADDR: 'h', MASTER_PORT: '29501', RANK: '1', WORLD_SIZE: '4', LOCAL_RANK: '1' }),
    { masterAddr: 'h', masterPort: 29501, rank: 1, worldSize: 4, localRank: 1 },
  );
  assert.deepEqual(
    processGroupFromEnv({ SLURM_PROCID: '3', SLURM_NTASKS: '4', SLURM_LOCALID: '1', SLURM_JOB_NODELIST: 'gpu[07-08]' }),
    { masterAddr: 'gpu07', masterPort: 29500, rank: 3, worldSize: 4, localRank: 1 },
  );
  assert.equal(firstSlurmHost('a,b'), 'a');
  assert.equal(
    processGroupFromEnv({ MASTER_ADDR: 'h', MASTER_PORT: '1', RANK: '0', WORLD_SIZE: '2', TANDEM_DIST_TIMEOUT: '9' })
      ?.timeoutMs,
    9000,
  );
  assert.throws(() => processGroupFromEnv({ WORLD_SIZE: '2' }), /WORLD_SIZE is set but RANK is not/);
  assert.throws(
    () => processGroupFromEnv({ MASTER_ADDR: 'h', MASTER_PORT: '1', RANK: '2', WORLD_SIZE: '2' }),
    /RANK 2 is not below WORLD_SIZE 2/,
  );
});

test('collectives and the ITC loss over the gathered batch equal the single-process computation', async () => {
  const port = await freePort();
  const worker = compiled
    ? [join(REPO_ROOT, 'dist', 'test', 'train', 'dist-worker.js')]
    : ['--import', 'tsx', join(REPO_ROOT, 'test', 'train', 'dist-worker.ts')];
  const ranks = [0, 1].map((r) => spawnRank(worker, rankEnv(port, r)));
  const exits = await Promise.all(ranks.map((p) => p.done));
  exits.forEach((e, r) => assert.equal(e.code, 0, ranks[r]!.stderr()));
  const out = ranks.map((p) => JSON.parse(p.stdout()));
  for (const o of out) {
    assert.deepEqual(o.summed, [3, 6]);
    assert.deepEqual(o.gatheredShape, [2, 3]);
    assert.deepEqual(o.gathered, [0, 10, 100, 1, 11, 101]);
    assert.deepEqual(o.broadcast, [7, 8]);
  }
  assert.deepEqual(
    out.map((o) => o.offset),
    [0, 4],
  );
  // the reducer: gradients averaged over the ranks, (1 + 2)/2 · 3 (step + 1)(i + 1); the unused parameter has
  // none. Step 1 finds it unused (its bucket, first in reverse order, waits for it: nothing starts during
  // backward); from step 2 it is left out of those buckets and all 3 start while backward runs.
  for (const o of out) {
    assert.deepEqual(
      o.reducer.map((s: { early: number }) => s.early),
      [0, 3],
    );
    o.reducer.forEach((s: { grads: (number[] | null)[] }, step: number) => {
      s.grads.slice(0, 3).forEach((g, i) => assert.deepEqual(g, new Array(16).fill(4.5 * (step + 1) * (i + 1))));
      assert.equal(s.grads[3], null);
    });
  }
  // the reference: one process, the whole batch
  tidy(() => {
    const { text, image, scale, textKeys, imageKeys } = itcInputs();
    const t = text.detach().requiresGrad_();
    const v = image.detach().requiresGrad_();
    const ref = itcLoss(t, v, scale, { textKeys, imageKeys });
    ref.loss.backward();
    const tg = t.grad!.toArray();
    const vg = v.grad!.toArray();
    const width = tg.length / ITC_BATCH;
    const rows = (g: number[], lo: number, hi: number) => g.slice(lo * width, hi * width);
    let worst = 0;
    for (const [o, lo, hi] of [
      [out[0], 0, 4],
      [out[1], 4, ITC_BATCH],
    ] as const) {
      worst = Math.max(worst, Math.abs(o.loss - ref.loss.item()));
      rows(tg, lo, hi).forEach((x, i) => (worst = Math.max(worst, Math.abs(x - o.textGrad[i]))));
      rows(vg, lo, hi).forEach((x, i) => (worst = Math.max(worst, Math.abs(x - o.imageGrad[i]))));
    }
    console.log(`gathered ITC vs single process: max |diff| of loss and gradients ${worst.toExponential(2)}`);
    assert.ok(worst <= 1e-12, `gathered ITC differs by ${worst}`);
  });
});

// ---- training ----

const data = (() => {
  const dir = join(tmp, 'data');
  const r = runCli([
    'data',
    'synth',
    '--out',
    dir,
    '--count',
    '48',
    '--size',
    '32',
    '--colours',
    '2',
    '--style',
    'plain',
  ]);
  assert.equal(r.status, 0, r.stderr);
  return join(dir, 'posts.jsonl');
})();
const TINY = join(REPO_ROOT, 'examples', 'tiny-models');
const TRAIN = [
  '--text-model',
  join(TINY, 'bert'),
  '--image-model',
  join(TINY, 'vit'),
  '--init',
  'random',
  '--data',
  data,
  '--epochs',
  '2',
  '--lr',
  '1e-3',
  '--dropout',
  '0',
  '--aux',
  'itc',
  '--max-length',
  '16',
  '--schedule',
  'constant',
  '--warmup-ratio',
  '0',
  '--max-grad-norm',
  '0',
  '--workers',
  '0',
  '--no-progress',
  '--save-every',
  '2',
];

function params(run: string): Map<string, number[]> {
  const t = loadSafetensorsFile(join(run, 'last', 'model.safetensors')).tensors;
  return new Map([...t].map(([k, v]) => [k, v.toArray()]));
}
function maxDiff(a: string, b: string): number {
  const pa = params(a);
  const pb = params(b);
  assert.deepEqual([...pa.keys()].sort(), [...pb.keys()].sort());
  let m = 0;
  for (const [k, xs] of pa) xs.forEach((x, i) => (m = Math.max(m, Math.abs(x - pb.get(k)![i]!))));
  return m;
}
const results = (run: string) => JSON.parse(readFileSync(join(run, 'results.json'), 'utf8'));

const one = join(tmp, 'one');
const two = join(tmp, 'two');

test('2 processes with batch 8 end with the parameters of 1 process with batch 16 (CE + ITC), same metrics', () => {
  const a = runCli(['train', ...TRAIN, '--batch-size', '16', '--out', one]);
  assert.equal(a.status, 0, a.stderr);
  const b = runCli(
    ['train', ...TRAIN, '--batch-size', '8', '--nproc-per-node', '2', '--dist-timeout', '60', '--out', two],
    {
      timeoutMs: 240_000,
    },
  );
  assert.equal(b.status, 0, b.stderr);
  assert.match(b.stderr, /data parallel: 2 processes \(gloo\), global batch 16 \(8 per process\)/);
  const d = maxDiff(one, two);
  console.log(`1 × 16 vs 2 × 8: max |parameter difference| ${d.toExponential(2)}`);
  assert.ok(d <= 1e-5, `parameters differ by ${d}`);
  assert.deepEqual(results(two).dev, results(one).dev);
  assert.deepEqual(results(two).test, results(one).test);
  // the saved predictions: the same posts in the same order with the same labels (ranks gathered by row)
  const preds = (r: string) =>
    readFileSync(join(r, 'predictions-test.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: string; gold: string; predicted: string });
  assert.deepEqual(
    preds(two).map((p) => [p.id, p.gold, p.predicted]),
    preds(one).map((p) => [p.id, p.gold, p.predicted]),
  );
  // the logged losses are the global batch's
  const log = (r: string) =>
    readFileSync(join(r, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
  const [la, lb] = [log(one), log(two)];
  assert.equal(la.length, lb.length);
  la.forEach((x, i) => assert.ok(Math.abs(x.itc - lb[i].itc) < 1e-5 && Math.abs(x.ce - lb[i].ce) < 1e-5));
});

const torchrun = '/usr/bin/torchrun';
test(
  'torchrun launches a 2-process run',
  {
    skip: (!existsSync(torchrun) && 'needs Debian python3-torch (torchrun)') || (!compiled && 'needs the compiled CLI'),
  },
  async () => {
    const out = join(tmp, 'torchrun');
    const port = await freePort();
    const r = spawnSync(
      torchrun,
      [
        '--no_python',
        '--nproc_per_node',
        '2',
        '--master_port',
        String(port),
        '--redirects',
        '2',
        '--tee',
        '2',
        process.execPath,
        RUN_JS,
        'train',
        ...TRAIN,
        '--batch-size',
        '8',
        '--dist-timeout',
        '60',
        '--out',
        out,
      ],
      { encoding: 'utf8', timeout: 240_000, env: { ...process.env, TANDEM_NUM_THREADS: '1' } },
    );
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const d = maxDiff(one, out);
    console.log(`torchrun run vs 1 × 16: max |parameter difference| ${d.toExponential(2)}`);
    assert.ok(d <= 1e-5);
  },
);

test('kill -9 of one rank: the other stops within the timeout naming it; --resume finishes as an uninterrupted run', async () => {
  const out = join(tmp, 'killed');
  const port = await freePort();
  const args = [RUN_JS, 'train', ...TRAIN, '--batch-size', '8', '--out', out];
  const timeout = 20;
  const ranks = [0, 1].map((r) => spawnRank(args, rankEnv(port, r, { TANDEM_DIST_TIMEOUT: String(timeout) })));
  // wait for a checkpoint and a step after it
  const t0 = Date.now();
  while (!(
    existsSync(join(out, 'log.jsonl')) && readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').length >= 3
  )) {
    if (Date.now() - t0 > 120_000) throw new Error(`no step 3: ${ranks[0]!.stderr()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const killedAt = Date.now();
  ranks[1]!.child.kill('SIGKILL');
  const e0 = await ranks[0]!.done;
  const waited = (Date.now() - killedAt) / 1000;
  console.log(
    `rank 0 stopped ${waited.toFixed(1)} s after rank 1 was killed: ${ranks[0]!.stderr().trim().split('\n').pop()}`,
  );
  assert.notEqual(e0.code, 0);
  assert.ok(waited < timeout + 5, `rank 0 took ${waited} s`);
  assert.match(ranks[0]!.stderr(), /lost rank 1 \(pid \d+\)/);
  const r = runCli(
    ['train', '--resume', '--out', out, '--nproc-per-node', '2', '--dist-timeout', '60', '--no-progress'],
    {
      timeoutMs: 240_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const d = maxDiff(two, out);
  console.log(`resumed 2-process run vs uninterrupted: max |parameter difference| ${d}`);
  assert.equal(d, 0);
});
