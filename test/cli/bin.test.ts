// bin/tandem.js itself: it re-executes once with jemalloc preloaded and OMP_WAIT_POLICY=PASSIVE (or without
// jemalloc under TANDEM_NO_JEMALLOC=1, and not at all when nothing is missing), forwards SIGINT and SIGTERM to
// the child, and exits as the child did (0, 2, 130, or the child's signal). Each process is observed through a
// module preloaded with NODE_OPTIONS that records its pid, parent, environment and whether jemalloc is mapped.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOLDEN, REPO_ROOT } from '../helpers/cli.js';
import { logSteps, synthData, waitFor } from '../helpers/train.js';
import { findJemalloc } from '../../src/runtime/setup-env.js';

const BIN = join(REPO_ROOT, 'bin', 'tandem.js');
const tmp = mkdtempSync(join(tmpdir(), 'tandem-bin-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const probe = join(tmp, 'probe.mjs');
writeFileSync(
  probe,
  `import { appendFileSync, readFileSync } from 'node:fs';
appendFileSync(process.env.PROBE_OUT, JSON.stringify({
  pid: process.pid, ppid: process.ppid, reexec: process.env.TANDEM_REEXEC ?? null,
  ldPreload: process.env.LD_PRELOAD ?? null, omp: process.env.OMP_WAIT_POLICY ?? null,
  mallocConf: process.env.MALLOC_CONF ?? null,
  jemallocMapped: readFileSync('/proc/self/maps', 'utf8').includes('jemalloc'),
}) + '\\n');
`,
);

interface Probe {
  pid: number;
  ppid: number;
  reexec: string | null;
  ldPreload: string | null;
  omp: string | null;
  mallocConf: string | null;
  jemallocMapped: boolean;
}
let n = 0;
function env(extra: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; out: string } {
  const out = join(tmp, `probe-${n++}.jsonl`);
  const base = { ...process.env };
  for (const k of ['LD_PRELOAD', 'OMP_WAIT_POLICY', 'MALLOC_CONF', 'TANDEM_REEXEC', 'TANDEM_NO_JEMALLOC'])
    delete base[k];
  return { env: { ...base, NODE_OPTIONS: `--import ${probe}`, PROBE_OUT: out, ...extra }, out };
}
const probes = (out: string): Probe[] =>
  existsSync(out)
    ? readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Probe)
    : [];
const jemalloc = findJemalloc();

test(
  're-executes once with jemalloc preloaded and passive OpenMP waiting; exit codes pass through',
  { skip: !jemalloc && 'libjemalloc2 is not installed' },
  () => {
    const e = env({});
    const r = spawnSync(process.execPath, [BIN, '--version'], { env: e.env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
    const [parent, child, ...more] = probes(e.out);
    assert.equal(more.length, 0, 'exactly one re-execution');
    assert.equal(parent!.reexec, null);
    assert.equal(parent!.jemallocMapped, false);
    assert.equal(child!.ppid, parent!.pid);
    assert.equal(child!.reexec, '1');
    assert.equal(child!.ldPreload, jemalloc);
    assert.equal(child!.omp, 'PASSIVE');
    assert.equal(child!.mallocConf, 'dirty_decay_ms:-1,muzzy_decay_ms:-1');
    assert.equal(child!.jemallocMapped, true, 'jemalloc is loaded in the child');
    // A usage error in the child is the parent's exit code too.
    const bad = spawnSync(process.execPath, [BIN, 'no-such-command'], { env: env({}).env, encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown command 'no-such-command'/);
  },
);

test('TANDEM_NO_JEMALLOC=1 keeps glibc (still re-executing for OMP_WAIT_POLICY); nothing missing: no re-execution', () => {
  const e = env({ TANDEM_NO_JEMALLOC: '1' });
  assert.equal(spawnSync(process.execPath, [BIN, '--version'], { env: e.env }).status, 0);
  const [parent, child, ...more] = probes(e.out);
  assert.equal(more.length, 0);
  assert.equal(child!.ppid, parent!.pid);
  assert.equal(child!.ldPreload, null);
  assert.equal(child!.omp, 'PASSIVE');
  assert.equal(child!.jemallocMapped, false);
  const e2 = env({ TANDEM_NO_JEMALLOC: '1', OMP_WAIT_POLICY: 'PASSIVE' });
  assert.equal(spawnSync(process.execPath, [BIN, '--version'], { env: e2.env }).status, 0);
  assert.equal(probes(e2.out).length, 1, 'no re-execution when the environment is complete');
});

const data = synthData(join(tmp, 'data'), 200);
function startTraining(out: string, e: NodeJS.ProcessEnv) {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'train',
      '--model',
      join(GOLDEN, 'models', 'vilt'),
      '--init',
      'random',
      '--max-length',
      '16',
      '--data',
      data,
      '--out',
      out,
      '--epochs',
      '20',
      '--batch-size',
      '4',
      '--no-progress',
    ],
    { env: e, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal })),
  );
  return { child, done, stderr: () => stderr };
}
/** Ends what a failed test leaves running (the parent, and the child the probe recorded). */
function cleanup(parent: number | undefined, out: string): void {
  for (const pid of [parent, ...probes(out).map((p) => p.pid)]) if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test(
  'SIGINT to the parent reaches the training child: checkpoint saved, both exit 130',
  { timeout: 60_000 },
  async () => {
    const e = env({});
    const out = join(tmp, 'sigint');
    const run = startTraining(out, e.env);
    after(() => cleanup(run.child.pid, e.out));
    await waitFor(() => logSteps(out) >= 2, 'two training steps');
    run.child.kill('SIGINT');
    const { code } = await run.done;
    assert.equal(code, 130, run.stderr());
    assert.match(run.stderr(), /tandem train --resume --out/);
    assert.ok(existsSync(join(out, 'last', 'trainer_state.json')), 'a resumable checkpoint');
    const child = probes(e.out)[1]!;
    assert.equal(alive(child.pid), false);
  },
);

test(
  "SIGTERM to the parent is forwarded; the parent dies of the child's signal and leaves no orphan",
  { timeout: 60_000 },
  async () => {
    const e = env({});
    const out = join(tmp, 'sigterm');
    const run = startTraining(out, e.env);
    after(() => cleanup(run.child.pid, e.out));
    await waitFor(() => logSteps(out) >= 1, 'a training step');
    const child = probes(e.out)[1]!;
    assert.equal(alive(child.pid), true);
    run.child.kill('SIGTERM');
    const { code, signal } = await run.done;
    assert.equal(signal, 'SIGTERM', `exited with code ${code}`);
    await waitFor(() => !alive(child.pid), 'the child to exit', 10_000);
  },
);
