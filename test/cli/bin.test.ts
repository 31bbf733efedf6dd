// bin/tandem.js itself: it re-executes once with jemalloc preloaded and OMP_WAIT_POLICY=PASSIVE (or without
// jemalloc under TANDEM_NO_JEMALLOC=1, and not at all when nothing is missing), forwards SIGINT and SIGTERM to
// the child, and exits as the child did (0, 2, 130, 143, or the child's signal). The child dies with it even
// when it is killed with SIGKILL (an IPC channel ties them), and so do the ranks of --nproc-per-node when their
// launcher is. Each process is observed through a module preloaded with NODE_OPTIONS that records its pid,
// parent, environment and whether jemalloc is mapped; survivors are looked for in /proc.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';
import { TINY_VILT, logSteps, synthData, waitFor } from '../helpers/train.js';
import { findJemalloc, processSetupEnv } from '../../src/runtime/setup-env.js';

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
  mallocConf: process.env.MALLOC_CONF ?? null, openblas: process.env.OPENBLAS_CORETYPE ?? null,
  openblasTimeout: process.env.OPENBLAS_THREAD_TIMEOUT ?? null,
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
  openblas: string | null;
  openblasTimeout: string | null;
  jemallocMapped: boolean;
}
let n = 0;
function env(extra: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; out: string } {
  const out = join(tmp, `probe-${n++}.jsonl`);
  const base = { ...process.env };
  for (const k of [
    'LD_PRELOAD',
    'OMP_WAIT_POLICY',
    'MALLOC_CONF',
    'OPENBLAS_CORETYPE',
    'OPENBLAS_THREAD_TIMEOUT',
    'TANDEM_REEXEC',
    'TANDEM_NO_JEMALLOC',
  ])
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
    assert.equal(child!.openblas, processSetupEnv({})?.OPENBLAS_CORETYPE ?? null, "OpenBLAS's kernels named");
    assert.equal(child!.openblasTimeout, '4', "OpenBLAS's threads sleep at once");
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
  const e2 = env({
    TANDEM_NO_JEMALLOC: '1',
    OMP_WAIT_POLICY: 'PASSIVE',
    OPENBLAS_CORETYPE: '',
    OPENBLAS_THREAD_TIMEOUT: '28',
  });
  assert.equal(spawnSync(process.execPath, [BIN, '--version'], { env: e2.env }).status, 0);
  assert.equal(probes(e2.out).length, 1, 'no re-execution when the environment is complete');
});

const data = synthData(join(tmp, 'data'), 200);
function startTraining(out: string, e: NodeJS.ProcessEnv, extra: string[] = []) {
  const child = spawn(
    process.execPath,
    [
      BIN,
      'train',
      ...extra,
      ...TINY_VILT,
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
  'SIGTERM to the parent is forwarded: checkpoint saved, the resume command printed, both exit 143',
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
    assert.equal(code, 143, `exited with ${code ?? signal}: ${run.stderr()}`);
    assert.match(
      run.stderr(),
      new RegExp(`SIGTERM: stopped at step \\d+ .*\\n  tandem train --resume --out ${out}\\n`),
    );
    assert.ok(existsSync(join(out, 'last', 'trainer_state.json')), 'a resumable checkpoint');
    await waitFor(() => !alive(child.pid), 'the child to exit', 10_000);
  },
);

/** The live processes (zombies excluded) whose command line names `text`, from /proc. */
function processesNaming(text: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').includes(text)) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Waits until no process names `out`; returns how long that took. */
async function noSurvivor(out: string, withinMs: number): Promise<number> {
  const t0 = Date.now();
  await waitFor(() => processesNaming(out).length === 0, `no process training into ${out}`, withinMs).catch(() => {
    throw new Error(`still running ${withinMs} ms after the kill: pids ${processesNaming(out).join(', ')}`);
  });
  return Date.now() - t0;
}

test(
  'kill -9 of the wrapper: the training child stops too (after a checkpoint), no process survives',
  { timeout: 60_000 },
  async () => {
    const e = env({});
    const out = join(tmp, 'sigkill');
    const run = startTraining(out, e.env);
    after(() => cleanup(run.child.pid, e.out));
    await waitFor(() => logSteps(out) >= 2, 'two training steps');
    const child = probes(e.out)[1]!;
    assert.equal(child.ppid, run.child.pid);
    assert.deepEqual(processesNaming(out).sort(), [run.child.pid, child.pid].sort(), 'the wrapper and its child');
    run.child.kill('SIGKILL');
    assert.equal((await run.done).signal, 'SIGKILL');
    const ms = await noSurvivor(out, 15_000);
    const state = JSON.parse(readFileSync(join(out, 'last', 'trainer_state.json'), 'utf8'));
    console.log(
      `wrapper killed after step ${logSteps(out)}: the child was gone ${ms} ms later, checkpoint at step ${state.step}`,
    );
    assert.equal(state.step, logSteps(out), 'it saved a resumable checkpoint at its last step');
    assert.match(run.stderr(), /SIGHUP: stopped at step \d+/);
  },
);

test(
  'kill -9 of the --nproc-per-node launcher: both ranks stop, no process survives',
  { timeout: 120_000 },
  async () => {
    const e = env({ TANDEM_NUM_THREADS: '1' });
    const out = join(tmp, 'launcher');
    const run = startTraining(out, e.env, ['--nproc-per-node', '2']);
    after(() => cleanup(run.child.pid, e.out));
    await waitFor(() => logSteps(out) >= 2, 'two training steps', 90_000);
    // the wrapper, the launcher (its child), and the two ranks (the launcher's children; their image worker
    // threads load the probe too, under the rank's pid)
    const seen = new Map(probes(e.out).map((p) => [p.pid, p]));
    const [, launcher, ...ranks] = [...seen.values()];
    assert.equal(launcher!.ppid, run.child.pid);
    assert.deepEqual(
      ranks.map((r) => r.ppid),
      [launcher!.pid, launcher!.pid],
    );
    assert.equal(processesNaming(out).length, 4);
    process.kill(launcher!.pid, 'SIGKILL');
    const ms = await noSurvivor(out, 20_000);
    console.log(`launcher killed after step ${logSteps(out)}: both ranks were gone ${ms} ms later`);
    assert.equal((await run.done).signal, 'SIGKILL', 'the wrapper exits as its child did');
  },
);
