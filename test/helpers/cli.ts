// Test helpers: the repository root, fixture paths, and running the `tandem` CLI in a child process,
// from the TypeScript sources under tsx or from the compiled dist/ when the tests themselves are compiled.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/runtime/package-root.js';

export const REPO_ROOT = packageRoot(import.meta.url);
export const GOLDEN = join(REPO_ROOT, 'test', 'fixtures', 'golden');

const compiled = import.meta.url.endsWith('.js');

/** Runs `tandem <args>`; returns status, stdout and stderr as strings. */
export function runCli(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number } = {},
): SpawnSyncReturns<string> {
  const entry = compiled
    ? [join(REPO_ROOT, 'dist', 'src', 'cli', 'run.js')]
    : ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'run.ts')];
  return spawnSync(process.execPath, [...entry, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, ...opts.env },
    input: opts.input,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
}
