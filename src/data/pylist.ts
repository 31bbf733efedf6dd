// Reads one Python list literal such as ['682716753374351360', 'text with \'quotes\'', 1] as MSD's text
// files store posts (they were written with Python's str(list)). Only what str() of a list of str/int/float/
// bool/None produces is accepted: never evaluated as code. Integers beyond 2^53 are returned as strings.

export type PyValue = string | number | boolean | null;

const ESCAPES: Record<string, string> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '0': '\0',
};

/** Parses a Python list literal; throws an Error with the column of the problem. */
export function parsePyList(src: string): PyValue[] {
  let i = 0;
  const n = src.length;
  const fail = (what: string): never => {
    throw new Error(`${what} at column ${i + 1}`);
  };
  const ws = (): void => {
    while (i < n && /\s/.test(src[i]!)) i++;
  };
  const str = (): string => {
    const q = src[i]!;
    i++;
    let out = '';
    while (i < n && src[i] !== q) {
      const c = src[i]!;
      if (c === '\\') {
        const e = src[i + 1];
        if (e === undefined) fail('unfinished escape');
        if (e === 'x' || e === 'u' || e === 'U') {
          const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
          const hex = src.slice(i + 2, i + 2 + len);
          if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) fail(`bad \\${e} escape`);
          out += String.fromCodePoint(parseInt(hex, 16));
          i += 2 + len;
          continue;
        }
        out += ESCAPES[e!] ?? '\\' + e;
        i += 2;
        continue;
      }
      out += c;
      i++;
    }
    if (i >= n) fail('string is never closed');
    i++;
    return out;
  };
  ws();
  if (src[i] !== '[') fail("expected '['");
  i++;
  const out: PyValue[] = [];
  ws();
  if (src[i] === ']') {
    i++;
  } else {
    for (;;) {
      ws();
      const c = src[i];
      if (c === "'" || c === '"') out.push(str());
      else {
        const m = /^(-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|True|False|None)/.exec(src.slice(i));
        if (!m) fail('expected a string, number, True, False or None');
        const tok = m![1]!;
        const num = Number(tok);
        // integers beyond 2^53 (tweet ids) stay strings so that no digit is lost
        const big = /^-?\d+$/.test(tok) && !Number.isSafeInteger(num);
        out.push(tok === 'True' ? true : tok === 'False' ? false : tok === 'None' ? null : big ? tok : num);
        i += tok.length;
      }
      ws();
      if (src[i] === ',') {
        i++;
        ws();
        if (src[i] === ']') {
          i++;
          break;
        }
        continue;
      }
      if (src[i] === ']') {
        i++;
        break;
      }
      fail("expected ',' or ']'");
    }
  }
  ws();
  if (i < n) fail('unexpected text after the list');
  return out;
}
