// The import rule of src/ (docs/design.md, "Layers"): each folder of src/ belongs to a layer, and a file imports
// only from lower layers, or from the same layer along the few edges listed in SAME_LAYER (today's; a new one
// is a design decision: add it here and to docs/design.md). Files directly in src/ (index.ts, the public entry)
// may import everything; nothing imports them.
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';

/** Lowest first; folders in one entry share a layer. */
export const LAYERS: readonly (readonly string[])[] = [
  ['runtime'],
  ['tensor'],
  ['nn', 'optim'],
  ['io', 'text', 'vision'],
  ['models'],
  ['multimodal'],
  ['objectives'],
  ['data', 'eval'],
  ['inference', 'study'],
  ['train'],
  ['serve', 'cli'],
];

/** The imports allowed inside a layer, `importer->imported` (each one way only, so no cycle can form). */
export const SAME_LAYER: ReadonlySet<string> = new Set(['optim->nn', 'cli->serve']);

export interface SourceFile {
  /** Path relative to the repository root, with '/' (e.g. 'src/models/bert.ts'). */
  path: string;
  text: string;
}

export interface Violation {
  path: string;
  line: number;
  specifier: string;
  message: string;
}

const ENTRY = '(entry)';

function layerOf(folder: string): number {
  return LAYERS.findIndex((l) => l.includes(folder));
}

/** The src/ folder a repository path is in ('src/models/bert.ts' -> 'models'), ENTRY for src/*.ts, null outside. */
function folderOf(path: string): string | null {
  const parts = path.split('/');
  if (parts[0] !== 'src') return null;
  return parts.length === 2 ? ENTRY : parts[1]!;
}

function describe(folder: string): string {
  return folder === ENTRY ? 'src/ (the public entry)' : `${folder} (layer ${layerOf(folder) + 1})`;
}

/** Every relative import, re-export and dynamic import of the files that break the rule. */
export function layerViolations(files: readonly SourceFile[]): Violation[] {
  const out: Violation[] = [];
  for (const file of files) {
    const from = folderOf(file.path);
    if (from === null) continue;
    if (from !== ENTRY && layerOf(from) < 0) {
      out.push({
        path: file.path,
        line: 1,
        specifier: '',
        message: `src/${from}/ is in no layer: add it to LAYERS in test/repo/import-layers.ts and to docs/design.md`,
      });
      continue;
    }
    // preProcessFile finds import/export ... from '...', import('...') and require('...'), not those in
    // comments or strings.
    const info = ts.preProcessFile(file.text, true, true);
    const lines = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, false);
    for (const ref of info.importedFiles) {
      const spec = ref.fileName;
      if (!spec.startsWith('.')) continue; // packages and node: builtins
      const target = posix.normalize(posix.join(posix.dirname(file.path), spec));
      const to = folderOf(target);
      const line = lines.getLineAndCharacterOfPosition(ref.pos).line + 1;
      const add = (message: string) => out.push({ path: file.path, line, specifier: spec, message });
      if (to === null) {
        add(`imports '${spec}', outside src/`);
        continue;
      }
      if (to === from || from === ENTRY) continue;
      if (to === ENTRY) {
        add(`imports '${spec}' (the public entry src/${posix.basename(target)}): import the module itself`);
        continue;
      }
      const a = layerOf(from);
      const b = layerOf(to);
      if (b < 0) add(`imports '${spec}' from src/${to}/, which is in no layer`);
      else if (b > a) add(`imports '${spec}': ${describe(from)} may not import the higher ${describe(to)}`);
      else if (b === a && !SAME_LAYER.has(`${from}->${to}`))
        add(`imports '${spec}': ${from} -> ${to} is not an allowed import inside layer ${a + 1} (SAME_LAYER)`);
    }
  }
  return out;
}

/** Every .ts file under root/src, with repository-relative '/' paths. */
export function readSources(root: string): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts'))
        files.push({ path: relative(root, p).split(sep).join('/'), text: readFileSync(p, 'utf8') });
    }
  };
  walk(join(root, 'src'));
  return files.sort((x, y) => x.path.localeCompare(y.path));
}

export function formatViolation(v: Violation): string {
  return `${v.path}:${v.line}: ${v.message}`;
}
