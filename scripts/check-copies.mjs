#!/usr/bin/env node
// Checks the deliberate copies between model families. tandem keeps one file per family (as transformers
// does), so a block shared by two families is copied, not imported, and the copy says where from:
//
//   // Copied from models/vit.ts ViTSelfAttention (names: ViT->Vilt)
//   class ViltSelfAttention extends Module { ... }
//
// The marker is a line comment right above a top-level class, function, interface, type or const; the path
// is relative to src/; `names:` lists the renames (comma-separated `Old->New`, applied in order to every
// occurrence in the source's text). The check: the copy equals its source after the renames, ignoring white
// space, line breaks, trailing commas and an `export` in front. The source is the one to edit; `--fix` then
// rewrites each copy from it (run prettier after).
//
//   node scripts/check-copies.mjs [--root DIR] [--fix]      exit 0: all copies match, 1: not, 2: usage
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const MARKER = /^\/\/\s*Copied from\b(.*)$/;
const MARKER_PARTS = /^\s+(\S+\.ts)\s+([A-Za-z_$][\w$]*)(?:\s+\(names:\s*([^)]*)\))?\s*$/;

/** `Old->New, A->B` -> [['Old', 'New'], ['A', 'B']]; throws on a malformed list. */
export function parseRenames(list) {
  if (list === undefined) return [];
  return list.split(',').map((pair) => {
    const m = /^\s*([\w$]+)\s*->\s*([\w$]*)\s*$/.exec(pair);
    if (!m) throw new Error(`rename "${pair.trim()}" is not Old->New`);
    return [m[1], m[2]];
  });
}

/**
 * Code with its formatting taken out, and for each character kept the offset it came from: runs of white space
 * become one space, kept only between two word characters; a comma before a closing bracket goes.
 */
export function normalise(text) {
  const chars = [];
  const offsets = [];
  const word = (c) => /[\w$]/.test(c);
  let pendingSpace = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (/\s/.test(c)) {
      pendingSpace = chars.length > 0;
      continue;
    }
    if (pendingSpace && word(c) && word(chars[chars.length - 1])) {
      chars.push(' ');
      offsets.push(i);
    }
    pendingSpace = false;
    if ((c === ')' || c === ']' || c === '}') && chars[chars.length - 1] === ',') {
      chars.pop();
      offsets.pop();
    }
    chars.push(c);
    offsets.push(i);
  }
  return { text: chars.join(''), offsets };
}

/** The top-level declarations of a file: name, text from its first token (without `export`), line. */
function declarations(path, text) {
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const out = [];
  for (const node of sf.statements) {
    let name;
    if (
      ts.isClassDeclaration(node) ||
      ts.isFunctionDeclaration(node) ||
      ts.isInterfaceDeclaration(node) ||
      ts.isTypeAliasDeclaration(node)
    )
      name = node.name?.text;
    else if (ts.isVariableStatement(node) && ts.isIdentifier(node.declarationList.declarations[0].name))
      name = node.declarationList.declarations[0].name.text;
    if (!name) continue;
    let start = node.getStart(sf);
    const head = /^export\s+(default\s+)?/.exec(text.slice(start));
    if (head) start += head[0].length;
    const comments = ts.getLeadingCommentRanges(text, node.pos) ?? [];
    out.push({
      name,
      start,
      end: node.end,
      line: sf.getLineAndCharacterOfPosition(start).line + 1,
      markers: comments
        .filter((r) => r.kind === ts.SyntaxKind.SingleLineCommentTrivia)
        .map((r) => ({ text: text.slice(r.pos, r.end), pos: r.pos }))
        .filter((c) => MARKER.test(c.text))
        .map((c) => ({ ...c, line: sf.getLineAndCharacterOfPosition(c.pos).line + 1 })),
    });
  }
  return { sf, decls: out };
}

function lineOf(text, offset) {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}

function excerpt(text, at) {
  return JSON.stringify(text.slice(Math.max(0, at - 30), at + 50));
}

/**
 * Checks every marked copy among `files` ({ path: repository-relative with '/', text }). Returns the copies
 * found ({ path, line, name, source, renames, ok }) and one message per problem, each starting `path:line:`.
 * With fix, also returns `fixed`: path -> new text for the files whose copies were rewritten from the source.
 */
export function checkCopies(files, opts = {}) {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const parsed = new Map();
  const parse = (path) => {
    if (!parsed.has(path)) parsed.set(path, declarations(path, byPath.get(path).text));
    return parsed.get(path);
  };
  const errors = [];
  const copies = [];
  const edits = new Map(); // path -> [{ start, end, text }]
  for (const file of files) {
    if (!file.text.includes('Copied from')) continue;
    const { decls } = parse(file.path);
    const attached = new Set();
    for (const d of decls) {
      for (const m of d.markers) {
        attached.add(m.line);
        const where = `${file.path}:${d.line}`;
        const parts = MARKER_PARTS.exec(MARKER.exec(m.text)[1]);
        if (!parts) {
          errors.push(
            `${file.path}:${m.line}: malformed marker ${JSON.stringify(m.text)}: expected "// Copied from models/FILE.ts NAME (names: Old->New)"`,
          );
          continue;
        }
        const [, sourceFile, sourceName, renameList] = parts;
        let renames;
        try {
          renames = parseRenames(renameList);
        } catch (e) {
          errors.push(`${file.path}:${m.line}: ${e.message}`);
          continue;
        }
        const sourcePath = `src/${sourceFile}`;
        if (!byPath.has(sourcePath)) {
          errors.push(`${where}: ${d.name} is copied from ${sourceFile}, which does not exist under src/`);
          continue;
        }
        const src = parse(sourcePath);
        const s = src.decls.find((x) => x.name === sourceName);
        if (!s) {
          errors.push(
            `${where}: ${d.name} is copied from ${sourceFile} ${sourceName}, which has no such top-level declaration`,
          );
          continue;
        }
        if (s.markers.length > 0) {
          errors.push(
            `${where}: ${d.name} is copied from ${sourceFile} ${sourceName}, itself a copy: name the original`,
          );
          continue;
        }
        const sourceText = byPath.get(sourcePath).text;
        let expected = sourceText.slice(s.start, s.end);
        for (const [from, to] of renames) expected = expected.split(from).join(to);
        const actual = file.text.slice(d.start, d.end);
        const a = normalise(actual);
        const e = normalise(expected);
        const ok = a.text === e.text;
        copies.push({
          path: file.path,
          line: d.line,
          name: d.name,
          source: `${sourceFile} ${sourceName}`,
          renames,
          ok,
        });
        if (ok) continue;
        if (opts.fix) {
          if (!edits.has(file.path)) edits.set(file.path, []);
          edits.get(file.path).push({ start: d.start, end: d.end, text: expected });
          continue;
        }
        let i = 0;
        while (i < a.text.length && i < e.text.length && a.text[i] === e.text[i]) i++;
        const copyAt = d.start + (a.offsets[Math.min(i, a.offsets.length - 1)] ?? 0);
        const sourceAt = e.offsets[Math.min(i, e.offsets.length - 1)] ?? 0;
        const sourceLine = s.line + lineOf(expected, sourceAt) - 1;
        const names = renames.length ? ` after the renames ${renames.map(([x, y]) => `${x}->${y}`).join(', ')}` : '';
        errors.push(
          `${file.path}:${lineOf(file.text, copyAt)}: ${d.name} differs from its source ${sourcePath}:${sourceLine} ` +
            `${sourceName}${names}: the copy has ${excerpt(actual, copyAt - d.start)} where the source has ` +
            `${excerpt(expected, sourceAt)} (edit the source and run scripts/check-copies.mjs --fix)`,
        );
      }
    }
    // A marker above anything but a top-level declaration would silently check nothing.
    file.text.split('\n').forEach((l, k) => {
      if (MARKER.test(l.trim()) && !attached.has(k + 1))
        errors.push(`${file.path}:${k + 1}: "Copied from" marker not directly above a top-level declaration`);
    });
  }
  const fixed = new Map();
  for (const [path, list] of edits) {
    let text = byPath.get(path).text;
    for (const ed of list.sort((x, y) => y.start - x.start))
      text = text.slice(0, ed.start) + ed.text + text.slice(ed.end);
    fixed.set(path, text);
  }
  return { copies, errors, fixed };
}

/** Every .ts file under root/src as { path, text } with repository-relative '/' paths. */
export function readTree(root) {
  const files = [];
  const walk = (dir) => {
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

function main(argv) {
  let root = fileURLToPath(new URL('..', import.meta.url));
  let fix = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--fix') fix = true;
    else if (argv[i] === '--root' && argv[i + 1]) root = argv[++i];
    else {
      console.error(
        `check-copies: unknown argument ${JSON.stringify(argv[i])}; usage: check-copies.mjs [--root DIR] [--fix]`,
      );
      return 2;
    }
  }
  const { copies, errors, fixed } = checkCopies(readTree(root), { fix });
  for (const [path, text] of fixed) {
    writeFileSync(join(root, path), text);
    console.log(`rewrote the copies in ${path} from their sources (run prettier on it)`);
  }
  for (const e of errors) console.error(e);
  const bad = copies.filter((c) => !c.ok).length;
  console.log(
    `check-copies: ${copies.length} marked copies in ${new Set(copies.map((c) => c.path)).size} files, ` +
      `${fix ? `${fixed.size} files rewritten` : `${bad} differing`}, ${errors.length} problems`,
  );
  return errors.length ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.exitCode = main(process.argv.slice(2));
