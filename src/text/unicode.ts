// Character classes and conversions that the tokenizer components share, defined as Rust's `char` methods and
// the `tokenizers` crate define them, so that splits and offsets agree with the reference.

/** GPT-2's reversible byte -> printable char table (printable Latin-1 bytes map to themselves). */
export const BYTE_TO_CHAR: string[] = (() => {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  const table = new Array<string>(256);
  for (const b of keep) table[b] = String.fromCodePoint(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (table[b] === undefined) table[b] = String.fromCodePoint(256 + n++);
  return table;
})();

export const CHAR_TO_BYTE: Map<string, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

const encoder = new TextEncoder();

export function utf8Bytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decodes UTF-8 replacing invalid sequences by U+FFFD as Rust's String::from_utf8_lossy does. */
export function utf8DecodeLossy(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

const P_PUNCT = /^\p{P}$/u;
const P_CONTROL_OTHER = /^[\p{Cc}\p{Cf}\p{Cn}\p{Co}\p{Cs}]$/u;
const P_MN = /^\p{Mn}$/u;
const P_NUMERIC = /^[\p{Nd}\p{Nl}\p{No}]$/u;
const P_WS = /^\p{White_Space}$/u;

/** char::is_whitespace */
export function isWhitespace(c: string): boolean {
  return P_WS.test(c);
}

/** ASCII punctuation or any Unicode punctuation (the BERT definition). */
export function isBertPunctuation(c: string): boolean {
  const cp = c.codePointAt(0) ?? 0;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126))
    return true;
  return P_PUNCT.test(c);
}

/** BERT's whitespace: tab, newline, carriage return or White_Space. */
export function isBertWhitespace(c: string): boolean {
  return c === '\t' || c === '\n' || c === '\r' || P_WS.test(c);
}

/** BERT's control chars: Unicode "other" categories except tab, newline, carriage return. */
export function isBertControl(c: string): boolean {
  if (c === '\t' || c === '\n' || c === '\r') return false;
  return P_CONTROL_OTHER.test(c);
}

export function isNonspacingMark(c: string): boolean {
  return P_MN.test(c);
}

/** char::is_numeric */
export function isNumeric(c: string): boolean {
  return P_NUMERIC.test(c);
}

/** The CJK ideograph blocks that BERT surrounds with spaces. */
export function isChineseChar(c: string): boolean {
  const cp = c.codePointAt(0) ?? 0;
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** For each UTF-16 index 0..len, the number of code points before it (offsets as Python reports them). */
export function codePointIndex(s: string): Int32Array {
  const idx = new Int32Array(s.length + 1);
  let cp = 0;
  for (let i = 0; i < s.length; i++) {
    idx[i] = cp;
    const u = s.charCodeAt(i);
    // A high surrogate and its low surrogate count as one code point.
    if (!(u >= 0xd800 && u <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00)) cp++;
  }
  idx[s.length] = cp;
  return idx;
}

const WORD_CLASS = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\u200c\\u200d';

/**
 * Translates an Oniguruma pattern (what `tokenizers` compiles) to a JavaScript `u` regular expression:
 * \s, \S, \w, \d are Unicode-aware there and ASCII-only in JavaScript without this.
 */
export function translateOnigRegex(pattern: string, where: string): RegExp {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) {
      const n = pattern[++i];
      if (n === 's') out += '\\p{White_Space}';
      else if (n === 'S') out += '\\P{White_Space}';
      else if (n === 'd') out += '\\p{Nd}';
      else if (n === 'D') out += '\\P{Nd}';
      else if (n === 'w') out += inClass ? WORD_CLASS : `[${WORD_CLASS}]`;
      else if (n === 'W' && !inClass) out += `[^${WORD_CLASS}]`;
      else out += '\\' + n;
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass) inClass = false;
    out += c;
  }
  try {
    return new RegExp(out, 'gu');
  } catch (e) {
    throw new Error(
      `${where}: regular expression ${JSON.stringify(pattern)} is not supported here (${(e as Error).message})`,
    );
  }
}
