// Output folders that cannot be confused: a command that fills a folder (a training run, a synthetic dataset)
// first asks what it holds, and replaces it only when told to, in a way a crash cannot leave half done.
import { existsSync, lstatSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';

/**
 * Up to `max` files (any non-folder entry, at any depth) under `dir`, as paths relative to it; empty when the
 * folder is absent or holds only empty folders, which hold nothing to confuse.
 */
export function filesIn(dir: string, max = 3): string[] {
  if (!existsSync(dir)) return [];
  if (!lstatSync(dir).isDirectory()) return [basename(dir)];
  // breadth first: the files at the top (run.json, posts.jsonl) say most about what the folder is
  const out: string[] = [];
  const queue = [dir];
  while (queue.length && out.length < max) {
    const d = queue.shift()!;
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) queue.push(p);
      else if (out.length < max) out.push(relative(dir, p));
    }
  }
  return out;
}

/**
 * Empties `dir` (creating it if absent). The folder is renamed aside in one step and then deleted, so a crash
 * leaves either the whole old content in place or none of it (the aside copy, `.NAME.replaced-PID`, is removed
 * by the next call). A folder that cannot be renamed (a mount point, an unwritable parent) is emptied entry by
 * entry instead.
 */
export function replaceFolder(dir: string): void {
  const real = existsSync(dir) ? realpathSync(dir) : dir;
  const parent = dirname(real);
  const aside = (name: string) => new RegExp(`^\\.${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.replaced-\\d+$`);
  if (existsSync(parent))
    for (const n of readdirSync(parent))
      if (aside(basename(real)).test(n)) rmSync(join(parent, n), { recursive: true, force: true });
  if (existsSync(real)) {
    const tmp = join(parent, `.${basename(real)}.replaced-${process.pid}`);
    try {
      renameSync(real, tmp);
      rmSync(tmp, { recursive: true, force: true });
    } catch {
      for (const n of readdirSync(real)) rmSync(join(real, n), { recursive: true, force: true });
    }
  }
  mkdirSync(real, { recursive: true });
}
