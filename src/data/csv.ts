// A CSV reader/writer (RFC 4180 plus what Python's csv module writes): quoted fields with "" escapes,
// delimiters and newlines inside quotes, CRLF or LF line ends, a UTF-8 BOM. Each record knows the line it
// started on, so errors can name it.
import { DataError } from './rows.js';

export interface CsvRecord {
  /** 1-based line number where the record starts in the file. */
  line: number;
  fields: string[];
}

/**
 * Parses CSV text into records. A quote left open at the end of the file is an error naming the line where
 * the field began. Characters after a closing quote are kept, as Python's csv module does, because
 * pandas-written files from the datasets contain them.
 */
export function parseCsv(text: string, file: string, delimiter = ','): CsvRecord[] {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let inQuotes = false;
  let quoteLine = 0;
  let fieldStarted = false;
  const n = text.length;
  const endRecord = (): void => {
    fields.push(field);
    // a blank line is not a record
    if (!(fields.length === 1 && fields[0] === '' && !fieldStarted)) records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    fieldStarted = false;
  };
  for (let i = 0; i < n; i++) {
    const c = text[i]!;
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (c === '\n') line++;
        else if (c === '\r') {
          if (text[i + 1] === '\n') {
            field += '\r';
            continue;
          }
          line++;
        }
        field += c;
      }
      continue;
    }
    if (c === '"' && field === '' && !fieldStarted) {
      inQuotes = true;
      fieldStarted = true;
      quoteLine = line;
    } else if (c === delimiter) {
      fields.push(field);
      field = '';
      fieldStarted = false;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (inQuotes) throw new DataError(`${file}:${quoteLine}: quoted field is never closed (file truncated?)`);
  if (field !== '' || fields.length > 0 || fieldStarted) endRecord();
  return records;
}

/** A header-keyed view of a CSV file: the header row and the data records, checked for width. */
export function readCsvTable(
  text: string,
  file: string,
  opts: { required?: string[]; delimiter?: string } = {},
): { header: string[]; rows: { line: number; get: (col: string) => string | undefined; fields: string[] }[] } {
  const records = parseCsv(text, file, opts.delimiter);
  if (records.length === 0) throw new DataError(`${file}: empty file (expected a header row)`);
  const header = records[0]!.fields.map((h) => h.trim());
  for (const req of opts.required ?? []) {
    if (!header.includes(req))
      throw new DataError(`${file}:1: missing column '${req}' (header has: ${header.join(', ')})`);
  }
  const index = new Map<string, number>();
  header.forEach((h, i) => {
    if (h !== '' && !index.has(h)) index.set(h, i);
  });
  // Columns a record must reach: named columns; trailing unnamed columns (',,,' in pandas output) may be absent.
  let needed = 0;
  header.forEach((h, i) => {
    if (h !== '') needed = i + 1;
  });
  const rows = records.slice(1).map((r) => {
    if (r.fields.length < needed) {
      throw new DataError(
        `${file}:${r.line}: expected ${needed} fields (${header.slice(0, needed).join(', ')}), found ${r.fields.length} (truncated line?)`,
      );
    }
    return {
      line: r.line,
      fields: r.fields,
      get: (col: string) => (index.has(col) ? r.fields[index.get(col)!] : undefined),
    };
  });
  return { header, rows };
}

/** Quotes a field when it contains the delimiter, a quote, a newline or leading/trailing spaces. */
export function csvField(v: string, delimiter = ','): string {
  if (v.includes(delimiter) || v.includes('"') || v.includes('\n') || v.includes('\r') || /^\s|\s$/.test(v)) {
    return '"' + v.replace(/"/g, '""') + '"';
  }
  return v;
}

/** Serialises rows of fields as CSV with LF line ends. */
export function writeCsv(rows: string[][], delimiter = ','): string {
  return rows.map((r) => r.map((f) => csvField(f, delimiter)).join(delimiter)).join('\n') + '\n';
}
