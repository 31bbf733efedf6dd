// What a run records about the code that made it: tandem's version (package.json) and, when the package is a
// git checkout, its commit. Never fails: a missing git, another repository around an installed package or an
// unreadable file all give null.
import { spawnSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './package-root.js';

export function packageVersion(root: string = packageRoot(import.meta.url)): string | null {
  try {
    const v = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

/**
 * The commit of the git checkout whose top folder is `root` (with `dirty` when tracked files differ from it),
 * or null: not a checkout, no git, or a package installed inside some other repository (whose commit says
 * nothing about tandem's code).
 */
export function gitCommit(root: string = packageRoot(import.meta.url)): { commit: string; dirty: boolean } | null {
  const git = (args: string[]) => {
    const env = { ...process.env };
    // a caller's GIT_DIR would name another repository
    for (const k of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE']) delete env[k];
    const r = spawnSync('git', ['-C', root, ...args], { encoding: 'utf8', timeout: 5000, env });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  try {
    const top = git(['rev-parse', '--show-toplevel']);
    if (!top || realpathSync(top) !== realpathSync(root)) return null;
    const commit = git(['rev-parse', 'HEAD']);
    if (!commit || !/^[0-9a-f]{40,64}$/.test(commit)) return null;
    const status = git(['status', '--porcelain', '--untracked-files=no']);
    return { commit, dirty: status !== null && status.length > 0 };
  } catch {
    return null;
  }
}
