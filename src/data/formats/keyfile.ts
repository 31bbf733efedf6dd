// Shared reading of the CSV "key files" several releases use (one row per post: id, label columns, split),
// notably the data_key_*.csv files of Sánchez Villegas et al.'s released code.
import { readdirSync } from 'node:fs';
import { readTextFile } from '../text-decode.js';
import { join } from 'node:path';
import { readCsvTable } from '../csv.js';
import { DataError } from '../rows.js';

export interface KeyRow {
  line: number;
  at: string;
  get(col: string): string | undefined;
}

/** The first of `names` that exists in `dir`, else the only file matching `pattern`; a DataError names what was expected. */
export function findKeyFile(dir: string, names: readonly string[], pattern: RegExp | null, what: string): string {
  const present = readdirSync(dir);
  for (const n of names) if (present.includes(n)) return join(dir, n);
  if (pattern) {
    const hits = present.filter((n) => pattern.test(n)).sort();
    if (hits.length === 1) return join(dir, hits[0]!);
    if (hits.length > 1)
      throw new DataError(`${dir}: several candidate key files (${hits.join(', ')}); expected one ${what}`);
  }
  throw new DataError(`${dir}: ${names.join(' or ')} not found (expected ${what})`);
}

/** Reads a key file as header-keyed rows; one of each list of alternative columns must be present (`hint` explains a missing text column). */
export function readKeyFile(
  file: string,
  required: readonly (readonly string[])[],
  hint = '',
  textEncoding?: string,
): { header: string[]; rows: KeyRow[]; col: (alts: readonly string[]) => string; encoding: string } {
  const decoded = readTextFile(file, textEncoding);
  const table = readCsvTable(decoded.text, file);
  const col = (alts: readonly string[]): string => {
    const c = alts.find((a) => table.header.includes(a));
    if (!c) {
      const why = alts.includes('text') ? hint : '';
      throw new DataError(
        `${file}:1: missing column ${alts.map((a) => `'${a}'`).join(' or ')} (header has: ${table.header.join(', ')})${why}`,
      );
    }
    return c;
  };
  for (const alts of required) col(alts);
  return {
    header: table.header,
    rows: table.rows.map((r) => ({ line: r.line, at: `${file}:${r.line}`, get: r.get })),
    col,
    encoding: decoded.encoding,
  };
}

/** Twitter ids are integers; '6.92094E+17' (a spreadsheet mangled it) or anything else is not. */
export function isTweetId(v: string): boolean {
  return /^\d+$/.test(v);
}
