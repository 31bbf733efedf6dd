// Test helpers: the repository root, fixture paths, and running the `tandem` CLI in a child process,
// from the TypeScript sources under tsx or from the compiled dist/ when the tests themselves are compiled.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

export const REPO_ROOT = findRoot();
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
