// JSON files with errors that name the line: JSON.parse reports a character position, users want a line.
import { readFileSync } from 'node:fs';
import { DataError } from './rows.js';

/** Rewrites `"field": 123` as `"field": "123"` for the named fields, so ids beyond 2^53 keep every digit. */
export function quoteIntegerFields(text: string, fields: readonly string[]): string {
  for (const f of fields) text = text.replace(new RegExp(`("${f}"\\s*:\\s*)(-?\\d+)(?=\\s*[,}\\]])`, 'g'), '$1"$2"');
  return text;
}

/**
 * Parses a JSON file; a syntax error names the file and the line (and column) of the problem. Integers of the
 * fields named in `idFields` are read as strings: tweet ids exceed 2^53 and would lose their last digits.
 */
export function readJsonFile(file: string, idFields: readonly string[] = []): unknown {
  let text = readFileSync(file, 'utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  text = quoteIntegerFields(text, idFields);
  try {
    return JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const m = /position (\d+)/.exec(msg);
    const pos = m ? Number(m[1]) : text.length;
    const before = text.slice(0, pos);
    const line = before.split('\n').length;
    const col = pos - before.lastIndexOf('\n');
    throw new DataError(`${file}:${line}:${col}: invalid JSON (${msg.replace(/ in JSON at position \d+.*$/, '')})`);
  }
}
