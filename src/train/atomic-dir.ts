// Checkpoint folders written so that a crash or kill -9 at any moment leaves either the previous complete
// checkpoint or the new complete one: files go into a fresh temporary folder, which is renamed into place,
// and the `last` / `best` names are symlinks swapped atomically by rename().
import { existsSync, lstatSync, mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Writes a folder by calling fill(tmpDir), then renames it to `dir` (which must not exist yet). */
export function writeDirAtomic(dir: string, fill: (tmp: string) => void): void {
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    fill(tmp);
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** Points `link` at `target` (a sibling name) by renaming a new symlink over it. */
export function swapSymlink(link: string, target: string): void {
  const tmp = `${link}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, link);
}

/** The folder a symlink points to (resolved against its parent), or null. */
export function readLink(link: string): string | null {
  try {
    if (!lstatSync(link).isSymbolicLink()) return existsSync(link) ? link : null;
    const target = readlinkSync(link);
    const abs = join(dirname(link), target);
    return existsSync(abs) ? abs : null;
  } catch {
    return null;
  }
}

/** Removes leftover temporary folders of interrupted writes. */
export function cleanTemporaries(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir))
    if (/^\..*\.tmp-\d+-\d+$/.test(name) || /\.tmp-\d+$/.test(name))
      rmSync(join(dir, name), { recursive: true, force: true });
}
