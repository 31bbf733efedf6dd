// Paths found inside data files are resolved against the dataset folder and must stay inside it: a label file
// with '../../etc/passwd' or '/etc/passwd' in it is refused. Symlinks inside the folder are left alone.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { DataError } from './rows.js';

/** Where a value came from, for error messages: 'labels.txt:12' or 'train.jsonl:3 field img'. */
export type Origin = string;

/** Resolves `rel` against `root`, refusing absolute paths and paths that leave `root`. */
export function resolveInside(root: string, rel: string, origin: Origin): string {
  if (rel === '') throw new DataError(`${origin}: empty path`);
  if (isAbsolute(rel) || /^[a-zA-Z]:[\\/]/.test(rel) || rel.startsWith('\\')) {
    throw new DataError(`${origin}: absolute path '${rel}' refused; paths in data files must be relative to ${root}`);
  }
  const abs = resolve(root, normalize(rel.replace(/\\/g, '/')));
  const back = relative(resolve(root), abs);
  if (back === '..' || back.startsWith('..' + sep) || isAbsolute(back)) {
    throw new DataError(`${origin}: path '${rel}' leaves the dataset folder ${root}; refused`);
  }
  return abs;
}

/** True when `p` exists and is a regular file (following symlinks). */
export function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The first existing file among `dir/<name><ext>` for the given extensions, or null. */
export function findWithExt(dir: string, name: string, exts: readonly string[]): string | null {
  for (const ext of exts) {
    const p = join(dir, name + ext);
    if (isFile(p)) return p;
  }
  return null;
}

/** The first existing folder among the candidates (relative to `root`), or null. */
export function firstDir(root: string, candidates: readonly string[]): string | null {
  for (const c of candidates) {
    const p = join(root, c);
    try {
      if (statSync(p).isDirectory()) return p;
    } catch {
      // not there: try the next one
    }
  }
  return null;
}

/** The first existing file among the candidates (relative to `root`), or null. */
export function firstFile(root: string, candidates: readonly string[]): string | null {
  for (const c of candidates) {
    const p = join(root, c);
    if (isFile(p)) return p;
  }
  return null;
}

/** Throws a DataError naming what was expected when `dir` is not a folder. */
export function requireDir(dir: string, what: string): void {
  if (!existsSync(dir)) throw new DataError(`${dir}: not found (expected ${what})`);
  if (!statSync(dir).isDirectory()) throw new DataError(`${dir}: not a folder (expected ${what})`);
}

export const IMAGE_EXTS = ['.jpg', '.jpeg', '.png', '.JPG', '.JPEG', '.PNG', '.gif', '.webp', '.bmp'] as const;

/**
 * Checks that an id used to build a file name is a plain name (no folder separators, not '.' or '..'), so a
 * crafted id cannot point outside the dataset folder.
 */
export function plainName(id: string, origin: Origin): string {
  if (id === '' || id === '.' || id === '..' || /[/\\\0]/.test(id)) {
    throw new DataError(`${origin}: id '${id}' is not a plain file name; refused`);
  }
  return id;
}

/**
 * The image of a post: the first existing `<dir>/<template with {id}>` over the candidate folders and name
 * templates, else the first candidate path (so the missing-image policy can report it).
 */
export function locateImage(root: string, id: string, dirs: readonly string[], templates: readonly string[]): string {
  let first: string | null = null;
  for (const d of dirs) {
    const folder = join(root, d);
    for (const t of templates) {
      const p = join(folder, t.replace('{id}', id));
      first ??= p;
      if (isFile(p)) return p;
    }
  }
  return first ?? join(root, id);
}
