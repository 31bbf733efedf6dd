// tandem's own dataset format, which `data convert` writes and training reads: JSONL (one object per line) or
// CSV with a header. Fields: id, text, image (path relative to the file's folder; empty or null for a
// text-only post), label or labels (CSV: separated by '|'), split (optional), extra (optional object; CSV: JSON).
import { readdirSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { writeFileAtomic } from '../io/atomic-write.js';
import { LoadBuilder, normaliseSplit } from './build.js';
import { readCsvTable, writeCsv } from './csv.js';
import { quoteIntegerFields } from './json-file.js';
import { resolveInside } from './paths.js';
import { DataError, rowOrigin, setRowOrigin, type LoadOptions, type LoadResult, type Row } from './rows.js';
import { readTextFile } from './text-decode.js';

const KNOWN = new Set(['id', 'text', 'image', 'label', 'labels', 'split', 'extra']);

/** Finds the generic file in a folder: posts.jsonl, else the only .jsonl, else the only .csv. */
export function findGenericFile(dirOrFile: string): string {
  if (!statSync(dirOrFile).isDirectory()) return dirOrFile;
  const names = readdirSync(dirOrFile);
  if (names.includes('posts.jsonl')) return join(dirOrFile, 'posts.jsonl');
  for (const ext of ['.jsonl', '.csv']) {
    const hits = names.filter((n) => n.endsWith(ext));
    if (hits.length === 1) return join(dirOrFile, hits[0]!);
    if (hits.length > 1)
      throw new DataError(`${dirOrFile}: several ${ext} files (${hits.join(', ')}); name the one to read`);
  }
  throw new DataError(`${dirOrFile}: no posts.jsonl, *.jsonl or *.csv file found (expected the generic format)`);
}

interface RawPost {
  line: number;
  id: unknown;
  text: unknown;
  image: unknown;
  label: unknown;
  labels: unknown;
  split: unknown;
  extra: Record<string, unknown>;
}

function toRow(p: RawPost, file: string, root: string): Row {
  const at = `${file}:${p.line}`;
  if (typeof p.id !== 'string' && typeof p.id !== 'number')
    throw new DataError(`${at}: field 'id' must be a string or number`);
  const id = String(p.id);
  if (id === '') throw new DataError(`${at}: field 'id' is empty`);
  if (typeof p.text !== 'string') throw new DataError(`${at}: field 'text' must be a string`);
  const row: Row = { id, text: p.text, image: null };
  if (p.image !== undefined && p.image !== null && p.image !== '') {
    if (typeof p.image !== 'string') throw new DataError(`${at}: field 'image' must be a relative path string`);
    row.image = resolveInside(root, p.image, `${at} field 'image'`);
  }
  if (p.label !== undefined && p.label !== null && p.label !== '') {
    if (typeof p.label !== 'string' && typeof p.label !== 'number' && typeof p.label !== 'boolean') {
      throw new DataError(`${at}: field 'label' must be a string`);
    }
    row.label = String(p.label);
  }
  if (p.labels !== undefined && p.labels !== null && p.labels !== '') {
    if (!Array.isArray(p.labels)) throw new DataError(`${at}: field 'labels' must be an array of strings`);
    row.labels = p.labels.map(String);
  }
  if (p.split !== undefined && p.split !== null && p.split !== '') {
    if (typeof p.split !== 'string') throw new DataError(`${at}: field 'split' must be a string`);
    row.split = normaliseSplit(p.split);
  }
  if (Object.keys(p.extra).length > 0) row.extra = p.extra;
  setRowOrigin(row, file, p.line);
  return row;
}

export { rowOrigin, setRowOrigin };

/**
 * Reads JSONL posts. A line that is not a JSON object is an error naming the file and line, or, with
 * `malformed` given (the 'skip' policy), is left out and its line number and problem recorded there.
 */
interface Malformed {
  line: number;
  detail: string;
}

function readJsonl(text: string, file: string, malformed?: Malformed[]): RawPost[] {
  const out: RawPost[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i === 0 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    if (line.trim() === '') return;
    const bad = (msg: string): void => {
      if (!malformed) throw new DataError(`${file}:${i + 1}: ${msg}`);
      malformed.push({ line: i + 1, detail: msg });
    };
    let obj: unknown;
    try {
      obj = JSON.parse(quoteIntegerFields(line, ['id']));
    } catch (e) {
      return bad(`not valid JSON (${(e as Error).message})`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return bad('expected a JSON object');
    const o = obj as Record<string, unknown>;
    const extra: Record<string, unknown> = {};
    if (o.extra !== undefined) {
      if (typeof o.extra !== 'object' || o.extra === null || Array.isArray(o.extra))
        return bad("field 'extra' must be an object");
      Object.assign(extra, o.extra);
    }
    for (const [k, v] of Object.entries(o)) if (!KNOWN.has(k)) extra[k] = v;
    out.push({
      line: i + 1,
      id: o.id,
      text: o.text,
      image: o.image,
      label: o.label,
      labels: o.labels,
      split: o.split,
      extra,
    });
  });
  return out;
}

function readCsvPosts(text: string, file: string): RawPost[] {
  const table = readCsvTable(text, file, { required: ['id', 'text'] });
  return table.rows.map((r) => {
    const extra: Record<string, unknown> = {};
    const ex = r.get('extra');
    if (ex !== undefined && ex !== '') {
      try {
        Object.assign(extra, JSON.parse(ex));
      } catch {
        throw new DataError(`${file}:${r.line}: column 'extra' must hold a JSON object`);
      }
    }
    table.header.forEach((h, i) => {
      if (h !== '' && !KNOWN.has(h)) extra[h] = r.fields[i];
    });
    const labels = r.get('labels');
    return {
      line: r.line,
      id: r.get('id'),
      text: r.get('text'),
      image: r.get('image'),
      label: r.get('label'),
      labels: labels === undefined || labels === '' ? undefined : labels.split('|'),
      split: r.get('split'),
      extra,
    };
  });
}

/** Reads a generic JSONL/CSV file (or the one in a folder). Image paths must stay inside the file's folder. */
export function loadGeneric(dirOrFile: string, opts: LoadOptions = {}): LoadResult {
  const file = findGenericFile(dirOrFile);
  const root = dirname(resolve(file));
  const decoded = readTextFile(file, opts.textEncoding);
  const text = decoded.text;
  const malformed: Malformed[] | undefined = opts.onMalformedLine === 'skip' ? [] : undefined;
  const raw = extname(file).toLowerCase() === '.csv' ? readCsvPosts(text, file) : readJsonl(text, file, malformed);
  const b = new LoadBuilder('generic', file, opts);
  b.fromFileEncoded(decoded.encoding);
  if (malformed?.length) {
    for (const m of malformed) b.skipBadRow('malformed-line', { file, line: m.line, detail: m.detail });
    b.notes.push(
      `${file}: ${malformed.length} malformed line(s) left out: ${malformed
        .slice(0, 10)
        .map((m) => m.line)
        .join(', ')}${malformed.length > 10 ? ', ...' : ''}`,
    );
  }
  let withSplit = 0;
  let firstWithout = 0;
  for (const p of raw) {
    const row = toRow(p, file, root);
    if (row.split !== undefined) withSplit++;
    else if (!firstWithout) firstWithout = p.line;
    if (row.image === null) b.addTextOnly(row);
    else b.add(row);
  }
  if (withSplit > 0 && firstWithout) {
    throw new DataError(
      `${file}:${firstWithout}: no 'split' while other posts have one (give every post a split, or none)`,
    );
  }
  if (b.dropped['duplicate-id'])
    throw new DataError(`${file}: ${b.dropped['duplicate-id']} posts repeat an earlier id; ids must be unique`);
  if (withSplit > 0) return b.finishOfficial();
  return b.finishSeeded(root);
}

/** The path of `abs` relative to `root` with '/' separators; throws when it is not inside `root`. */
function relativeInside(root: string, abs: string, id: string): string {
  const rel = relative(root, abs);
  if (rel === '' || rel === '..' || rel.startsWith('..' + sep) || resolve(root, rel) !== resolve(abs)) {
    throw new DataError(
      `post ${id}: image ${abs} is not inside the output folder ${root}; write the output in the dataset folder or a folder above it`,
    );
  }
  return rel.split(sep).join('/');
}

/** Writes rows in the generic format (JSONL, or CSV when `outFile` ends in .csv), atomically; image paths relative to the file. */
export function writeGeneric(rows: readonly Row[], outFile: string): void {
  const root = dirname(resolve(outFile));
  const asCsv = extname(outFile).toLowerCase() === '.csv';
  const records = rows.map((r) => {
    const o: Record<string, unknown> = {
      id: r.id,
      text: r.text,
      image: r.image === null ? null : relativeInside(root, r.image, r.id),
    };
    if (r.label !== undefined) o.label = r.label;
    if (r.labels !== undefined) o.labels = r.labels;
    if (r.split !== undefined) o.split = r.split;
    if (r.extra !== undefined && Object.keys(r.extra).length > 0) o.extra = r.extra;
    return o;
  });
  if (!asCsv) {
    writeFileAtomic(outFile, records.map((o) => JSON.stringify(o)).join('\n') + (records.length ? '\n' : ''));
    return;
  }
  const hasLabels = rows.some((r) => r.labels !== undefined);
  const header = ['id', 'text', 'image', 'label', ...(hasLabels ? ['labels'] : []), 'split', 'extra'];
  const body = records.map((o) => [
    String(o.id),
    String(o.text),
    (o.image as string | null) ?? '',
    (o.label as string | undefined) ?? '',
    ...(hasLabels ? [((o.labels as string[] | undefined) ?? []).join('|')] : []),
    (o.split as string | undefined) ?? '',
    o.extra === undefined ? '' : JSON.stringify(o.extra),
  ]);
  writeFileAtomic(outFile, writeCsv([header, ...body]));
}

/** The generic file name used when the output is a folder. */
export const DEFAULT_GENERIC_NAME = 'posts.jsonl';
