// Runs a study's grid: each run is a `tandem train` child process on an ordinary run folder. Finished runs
// (results.json present) are skipped, interrupted ones (a `last` checkpoint) resumed, runs locked by a live
// process left to it, and up to `jobs` runs go at once with the machine's threads divided between them.
// The run folder is `tandem train`'s alone (a new run refuses a folder holding files): the study's own files
// for a run lie next to it, `<run>.lock`, `<run>.log` (the training's output) and `<run>.failed.json`. Each
// child is tied to this process (src/runtime/parent-watch.ts): if the study dies, even of SIGKILL, its
// trainings checkpoint and stop.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../io/atomic-write.js';
import { tiedSpawn } from '../runtime/parent-watch.js';
import { expandGrid, notApplicableRuns, runsDir, shardOf, type NotApplicableRun, type StudyRun } from './grid.js';
import { lockAlive, readLock, RunLock } from './lock.js';
import { validateSpec, type StudySpec } from './spec.js';

export const SPEC_FILE = 'study.json';
export function lockPath(run: StudyRun): string {
  return `${run.dir}.lock`;
}
/** The training's stdout and stderr, appended over its attempts. */
export function logPath(run: StudyRun): string {
  return `${run.dir}.log`;
}
/** Written when the training failed: its exit code or signal and the end of its stderr. */
function failedPath(run: StudyRun): string {
  return `${run.dir}.failed.json`;
}
/** The exit codes of a training stopped by a signal after saving a resumable checkpoint (SIGINT, SIGTERM, SIGHUP). */
const INTERRUPTED = new Set([130, 143, 129]);

/** Saves the resolved specification in the study folder (status and report read it from there). */
export function saveSpec(studyDir: string, spec: StudySpec): void {
  mkdirSync(studyDir, { recursive: true });
  writeFileAtomic(join(studyDir, SPEC_FILE), JSON.stringify(spec, null, 2) + '\n');
}

export function loadStudy(studyDir: string): { spec: StudySpec; runs: StudyRun[]; notApplicable: NotApplicableRun[] } {
  const file = join(studyDir, SPEC_FILE);
  if (!existsSync(file)) throw new Error(`${studyDir}: not a study folder (no ${SPEC_FILE}; run \`tandem study run\`)`);
  // paths in the saved copy are absolute already
  const spec = validateSpec(JSON.parse(readFileSync(file, 'utf8')), studyDir);
  return { spec, runs: expandGrid(spec, studyDir), notApplicable: notApplicableRuns(spec, studyDir) };
}

export type RunState = 'done' | 'running' | 'failed' | 'interrupted' | 'pending';

export function runState(run: StudyRun): RunState {
  if (existsSync(join(run.dir, 'results.json'))) return 'done';
  const lock = readLock(lockPath(run));
  if (lock && lockAlive(lock)) return 'running';
  if (existsSync(failedPath(run))) return 'failed';
  if (existsSync(join(run.dir, 'last'))) return 'interrupted';
  return 'pending';
}

/** The failure record of a failed run. */
export function failureOf(run: StudyRun): { code: number | null; signal: string | null; tail: string } | null {
  const f = failedPath(run);
  return existsSync(f) ? JSON.parse(readFileSync(f, 'utf8')) : null;
}

/** How to start the CLI in a child process: the compiled entry, or the sources under tsx. */
function cliEntry(): string[] {
  const here = fileURLToPath(import.meta.url);
  return here.endsWith('.ts')
    ? ['--import', 'tsx', join(here, '..', '..', 'cli', 'run.ts')]
    : [join(here, '..', '..', 'cli', 'run.js')];
}

export interface StudyRunOptions {
  jobs: number;
  shard: { index: number; count: number } | null;
  log: (msg: string) => void;
}

export interface StudyRunSummary {
  trained: string[];
  skipped: string[];
  busy: string[];
  failed: string[];
  interrupted: boolean;
}

/** Runs (this shard of) the grid; returns what happened to each run. */
export async function runStudy(spec: StudySpec, studyDir: string, o: StudyRunOptions): Promise<StudyRunSummary> {
  saveSpec(studyDir, spec);
  mkdirSync(runsDir(studyDir), { recursive: true });
  const queue = shardOf(expandGrid(spec, studyDir), o.shard);
  const summary: StudyRunSummary = { trained: [], skipped: [], busy: [], failed: [], interrupted: false };
  const cores = Number(process.env.TANDEM_NUM_THREADS) || availableParallelism();
  const threads = Math.max(1, Math.floor(cores / o.jobs));
  const children = new Set<ReturnType<typeof spawn>>();
  const onSigint = () => {
    // the children got the signal too (same process group) and save a resumable checkpoint
    summary.interrupted = true;
  };
  process.on('SIGINT', onSigint);
  let next = 0;
  const worker = async () => {
    while (!summary.interrupted && next < queue.length) {
      const run = queue[next++]!;
      if (existsSync(join(run.dir, 'results.json'))) {
        summary.skipped.push(run.id);
        continue;
      }
      const lock = RunLock.tryAcquire(lockPath(run));
      if (!lock) {
        o.log(`${run.id}: being trained by another process, left to it`);
        summary.busy.push(run.id);
        continue;
      }
      try {
        // another process may have finished it between our check and our lock
        if (existsSync(join(run.dir, 'results.json'))) {
          summary.skipped.push(run.id);
          continue;
        }
        const resume = existsSync(join(run.dir, 'last'));
        // a run killed before its first checkpoint starts again from a clean folder (which `train` creates)
        if (!resume) rmSync(run.dir, { recursive: true, force: true });
        const failedFile = failedPath(run);
        if (existsSync(failedFile)) unlinkSync(failedFile);
        const args = resume ? ['train', '--resume', '--out', run.dir] : ['train', ...run.args];
        if (!args.includes('--no-progress')) args.push('--no-progress');
        o.log(`${run.id}: ${resume ? 'resuming' : 'training'} (${threads} thread${threads > 1 ? 's' : ''})`);
        const logFd = openSync(logPath(run), 'a');
        let tail = '';
        const code = await new Promise<{ code: number | null; signal: string | null }>((res) => {
          const child = spawn(
            process.execPath,
            [...cliEntry(), ...args],
            tiedSpawn(['ignore', logFd, 'pipe'], { ...process.env, TANDEM_NUM_THREADS: String(threads) }),
          );
          children.add(child);
          if (child.pid !== undefined) lock.setChild(child.pid);
          child.stderr!.on('data', (b: Buffer) => {
            tail = (tail + b.toString('utf8')).slice(-4000);
            try {
              writeSync(logFd, b);
            } catch {
              // the log is a convenience; the run goes on without it
            }
          });
          child.on('error', (e) => {
            tail += String(e);
            res({ code: null, signal: null });
          });
          child.on('close', (c, s) => {
            children.delete(child);
            res({ code: c, signal: s });
          });
        });
        closeSync(logFd);
        if (code.code === 0 && existsSync(join(run.dir, 'results.json'))) {
          summary.trained.push(run.id);
          o.log(`${run.id}: done`);
        } else if ((code.code !== null && INTERRUPTED.has(code.code)) || summary.interrupted) {
          summary.interrupted = true;
          o.log(`${run.id}: interrupted (resumable)`);
        } else {
          summary.failed.push(run.id);
          writeFileAtomic(failedFile, JSON.stringify({ ...code, tail }, null, 2) + '\n');
          o.log(`${run.id}: failed (exit ${code.code ?? code.signal}); see ${logPath(run)}`);
        }
      } finally {
        lock.release();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, o.jobs) }, worker));
  } finally {
    process.off('SIGINT', onSigint);
  }
  return summary;
}
