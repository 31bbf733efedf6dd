// JSON files with errors that name the line: JSON.parse reports a character position, users want a line.
import { readFileSync } from 'node:fs';
import { DataError } from './rows.js';

/** Parses a JSON file; a syntax error names the file and the line (and column) of the problem. */
export function readJsonFile(file: string): unknown {
  let text = readFileSync(file, 'utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
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
