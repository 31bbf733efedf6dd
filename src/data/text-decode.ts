// Text files of social-media releases come in mixed encodings: most are UTF-8, the rest in whatever the
// collector's machine used (MVSA: GB18030, where bytes A1 B0 are a left double quote and A1 AD an ellipsis).
// Order: a byte-order mark; strict UTF-8; UTF-16 without a BOM (its zero bytes give it away); else jschardet's
// candidates among the encodings releases actually use, kept only when they decode the bytes with no invalid
// sequence and no control character. Short texts are often ambiguous (GB18030, EUC-KR and EUC-JP share most
// double-byte ranges), so a caller decoding a whole release passes the release's own dominant encoding as a
// preference, taken whenever the detector cannot rule it out. Decoding is iconv-lite's: Node 20's
// TextDecoder('windows-1252') maps 0x80-0x9F to C1 controls instead of the Windows-1252 characters.
import { readFileSync } from 'node:fs';
import iconv from 'iconv-lite';
import jschardet from 'jschardet';

/** The encodings automatic detection chooses among (names as recorded in `extra.text_encoding`). */
export const DETECTABLE_ENCODINGS = [
  'gb18030',
  'big5',
  'shift_jis',
  'euc-jp',
  'euc-kr',
  'windows-1250',
  'windows-1251',
  'windows-1252',
  'windows-1253',
  'windows-1254',
  'windows-1255',
  'windows-1256',
  'windows-1257',
  'windows-1258',
  'iso-8859-2',
  'iso-8859-5',
  'iso-8859-7',
  'iso-8859-8',
] as const;

// jschardet's names (lower-cased) -> ours. Supersets decode as the superset: GB2312/GBK text is valid GB18030,
// CP932 and CP949 are the Windows forms of Shift-JIS and EUC-KR that phones and Windows actually wrote.
const DETECTOR_NAMES: Record<string, string> = {
  gb18030: 'gb18030',
  gb2312: 'gb18030',
  gbk: 'gb18030',
  big5: 'big5',
  shift_jis: 'shift_jis',
  cp932: 'shift_jis',
  'euc-jp': 'euc-jp',
  'euc-kr': 'euc-kr',
  cp949: 'euc-kr',
  'iso-8859-1': 'windows-1252', // as browsers do: Latin-1 bytes 0x80-0x9F are Windows-1252 text in practice
  'iso-8859-9': 'windows-1254',
};
for (const e of DETECTABLE_ENCODINGS) DETECTOR_NAMES[e] ??= e;

// What jschardet is allowed to consider (its own spellings).
const DETECTOR_INPUT = [
  'GB18030',
  'Big5',
  'SHIFT_JIS',
  'CP932',
  'EUC-JP',
  'EUC-KR',
  'CP949',
  'ISO-8859-1',
  'ISO-8859-2',
  'ISO-8859-5',
  'ISO-8859-7',
  'ISO-8859-8',
  'ISO-8859-9',
  ...DETECTABLE_ENCODINGS.filter((e) => e.startsWith('windows-')).map((e) => `W${e.slice(1)}`),
];

// iconv-lite's decoder for each of our names (the Windows supersets for EUC-KR and Shift-JIS).
const DECODER_NAME: Record<string, string> = { 'euc-kr': 'cp949', shift_jis: 'cp932' };

export interface DecodedText {
  text: string;
  /** 'utf-8', 'utf-16le', 'utf-16be', or one of DETECTABLE_ENCODINGS (or the forced one). */
  encoding: string;
  /** How it was chosen: byte-order mark, valid UTF-8, detection, the caller's preference, forced, or fallback. */
  how: 'bom' | 'utf-8' | 'utf-16-zeros' | 'detected' | 'preferred' | 'forced' | 'fallback';
}

export interface DecodeOptions {
  /** Decode every file with this encoding (any name iconv-lite knows: 'gb18030', 'big5', 'latin1', ...). */
  force?: string;
  /** An encoding to take whenever the detector lists it and it decodes the bytes cleanly (a release's norm). */
  prefer?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The canonical name of an encoding a user gave (`--text-encoding`), or an error naming the accepted ones. */
export function resolveEncodingName(name: string, where = '--text-encoding'): string {
  const low = name.trim().toLowerCase().replace(/_/g, '-');
  const canon: Record<string, string> = {
    utf8: 'utf-8',
    'utf-16': 'utf-16le',
    utf16le: 'utf-16le',
    utf16be: 'utf-16be',
    gbk: 'gb18030',
    gb2312: 'gb18030',
    cp936: 'gb18030',
    'shift-jis': 'shift_jis',
    sjis: 'shift_jis',
    cp932: 'shift_jis',
    cp949: 'euc-kr',
    latin1: 'iso-8859-1',
    'latin-1': 'iso-8859-1',
  };
  const out = canon[low] ?? (/^cp125\d$/.test(low) ? `windows-${low.slice(2)}` : low);
  if (out !== 'utf-8' && !iconv.encodingExists(DECODER_NAME[out] ?? out)) {
    throw new Error(
      `${where}: unknown text encoding '${name}' (expected e.g. utf-8, utf-16le, ${DETECTABLE_ENCODINGS.join(', ')}, iso-8859-1)`,
    );
  }
  return out;
}

/** Decodes bytes with a named encoding (as resolveEncodingName gives); a BOM of that encoding is dropped. */
export function decodeAs(bytes: Uint8Array, encoding: string): string {
  if (encoding === 'utf-8') return new TextDecoder('utf-8', { ignoreBOM: false }).decode(bytes);
  return iconv.decode(
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    DECODER_NAME[encoding] ?? encoding,
  );
}

// A clean decoding has no replacement character and no control character other than tab, CR, LF (and form feed).
function isClean(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[\uFFFD\u0000-\u0008\u000B\u000E-\u001F\u007F-\u009F]/u.test(text);
}

// UTF-16 without a BOM: text with ASCII in it has a zero byte in most code units, always on the same side.
function utf16ByZeros(bytes: Uint8Array): 'utf-16le' | 'utf-16be' | null {
  if (bytes.length < 2 || bytes.length % 2 !== 0) return null;
  const units = bytes.length / 2;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    if (bytes[i] === 0 && bytes[i + 1] !== 0) evenZeros++;
    if (bytes[i + 1] === 0 && bytes[i] !== 0) oddZeros++;
  }
  if (oddZeros >= units * 0.3 && evenZeros === 0) return 'utf-16le';
  if (evenZeros >= units * 0.3 && oddZeros === 0) return 'utf-16be';
  return null;
}

const LATIN_PAGES = new Set(['windows-1250', 'windows-1254', 'windows-1257', 'windows-1258', 'iso-8859-2']);

// The script of a letter, coarsely; Latin next to a CJK script is ordinary in tweets, other mixes in one word
// ('cafι', Latin with Greek) are what a wrong single-byte code page produces.
const SCRIPTS: [string, RegExp][] = [
  ['latin', /\p{Script=Latin}/u],
  ['greek', /\p{Script=Greek}/u],
  ['cyrillic', /\p{Script=Cyrillic}/u],
  ['hebrew', /\p{Script=Hebrew}/u],
  ['arabic', /\p{Script=Arabic}/u],
  ['hangul', /\p{Script=Hangul}/u],
  ['cjk', /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Bopomofo}]/u],
];

/** Words whose letters come from scripts that do not mix (mojibake of a wrong code page). */
export function mixedScriptWords(text: string): number {
  let n = 0;
  for (const [word] of text.matchAll(/\p{L}+/gu)) {
    const seen = new Set<string>();
    for (const ch of word) for (const [name, re] of SCRIPTS) if (re.test(ch)) seen.add(name);
    const latin = seen.delete('latin');
    const cjk = seen.size === 1 && (seen.has('cjk') || seen.has('hangul'));
    if (seen.size > 1 || (latin && seen.size === 1 && !cjk)) n++;
  }
  return n;
}

/**
 * jschardet's candidates mapped to our names, best first, each decoding the bytes cleanly; candidates whose
 * decoding mixes scripts inside words go last, and of candidates giving the same text Windows-1252 is named.
 */
export function detectEncodings(bytes: Uint8Array): string[] {
  const found = jschardet.detectAll(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
    minimumThreshold: 0,
    detectEncodings: DETECTOR_INPUT,
  });
  const clean: { name: string; text: string; mixed: number; confidence: number }[] = [];
  for (const f of found) {
    const name = f.encoding ? DETECTOR_NAMES[f.encoding.toLowerCase()] : undefined;
    if (!name || clean.some((c) => c.name === name)) continue;
    const text = decodeAs(bytes, name);
    if (isClean(text)) clean.push({ name, text, mixed: mixedScriptWords(text), confidence: f.confidence });
  }
  const ranked = clean.map((c, i) => ({ ...c, i })).sort((a, b) => a.mixed - b.mixed || a.i - b.i);
  // The Latin code pages differ in a few accented letters the detector barely tells apart on a tweet's worth of
  // text ('naïve' is 'naďve' in Windows-1250): Windows-1252, far the commonest, wins unless clearly behind.
  const top = ranked[0];
  const w1252 = ranked.findIndex((c) => c.name === 'windows-1252');
  if (top && w1252 > 0 && LATIN_PAGES.has(top.name) && ranked[w1252]!.mixed === top.mixed) {
    if (ranked[w1252]!.confidence >= 0.5 * top.confidence) ranked.unshift(...ranked.splice(w1252, 1));
  }
  const out: string[] = [];
  const texts = new Map<string, number>();
  for (const c of ranked) {
    const at = texts.get(c.text);
    if (at === undefined) {
      texts.set(c.text, out.length);
      out.push(c.name);
    } else if (c.name === 'windows-1252') out[at] = c.name;
  }
  return out;
}

// The few non-ASCII bytes of a short text ('哈哈', '#sad…') leave the detector guessing (it may not even list
// the right encoding): below this many, a release's own encoding is taken whenever it decodes them cleanly.
const SHORT_NON_ASCII = 16;

function isPlausible(bytes: Uint8Array, encoding: string, candidates: readonly string[]): boolean {
  let nonAscii = 0;
  for (const b of bytes) if (b >= 0x80) nonAscii++;
  if (nonAscii >= SHORT_NON_ASCII) return false;
  const text = decodeAs(bytes, encoding);
  if (!isClean(text)) return false;
  const best = candidates[0];
  return best === undefined || mixedScriptWords(text) <= mixedScriptWords(decodeAs(bytes, best));
}

/**
 * Decodes the bytes of one text file: forced encoding, BOM, strict UTF-8, BOM-less UTF-16, then detection
 * (for short texts, the caller's preferred encoding first when it decodes them cleanly and no worse). With nothing clean, Windows-1252
 * (bytes it leaves undefined kept as the Latin-1 controls), so no post is lost to its encoding.
 */
export function decodeText(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedText {
  if (opts.force) return { text: decodeAs(bytes, opts.force), encoding: opts.force, how: 'forced' };
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { text: new TextDecoder('utf-8').decode(bytes.subarray(3)), encoding: 'utf-8', how: 'bom' };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xfe)
    return { text: decodeAs(bytes.subarray(2), 'utf-16le'), encoding: 'utf-16le', how: 'bom' };
  if (bytes[0] === 0xfe && bytes[1] === 0xff)
    return { text: decodeAs(bytes.subarray(2), 'utf-16be'), encoding: 'utf-16be', how: 'bom' };
  try {
    return { text: utf8.decode(bytes), encoding: 'utf-8', how: 'utf-8' };
  } catch {
    // not UTF-8: go on
  }
  const u16 = utf16ByZeros(bytes);
  if (u16) return { text: decodeAs(bytes, u16), encoding: u16, how: 'utf-16-zeros' };
  const candidates = detectEncodings(bytes);
  if (opts.prefer && isPlausible(bytes, opts.prefer, candidates)) {
    return { text: decodeAs(bytes, opts.prefer), encoding: opts.prefer, how: 'preferred' };
  }
  if (candidates.length > 0)
    return { text: decodeAs(bytes, candidates[0]!), encoding: candidates[0]!, how: 'detected' };
  return { text: decodeCp1252Lenient(bytes), encoding: 'windows-1252', how: 'fallback' };
}

/**
 * Decodes the text files of one release together: each alone first, then the short ones again with the
 * release's dominant detected legacy encoding (by non-ASCII bytes) preferred (a short GB18030 text in a GB18030 release is read
 * as GB18030 even where EUC-KR would also have decoded it).
 */
export function decodeRelease(files: readonly Uint8Array[], opts: DecodeOptions = {}): DecodedText[] {
  if (opts.force || opts.prefer) return files.map((b) => decodeText(b, opts));
  const first = files.map((b) => decodeText(b));
  // Each detection weighs by its evidence, the file's non-ASCII bytes: long files are detected reliably.
  const counts = new Map<string, number>();
  first.forEach((d, i) => {
    if (d.how !== 'detected') return;
    let nonAscii = 0;
    for (const b of files[i]!) if (b >= 0x80) nonAscii++;
    counts.set(d.encoding, (counts.get(d.encoding) ?? 0) + nonAscii);
  });
  const norm = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  if (!norm) return first;
  return first.map((d, i) => (d.how === 'detected' ? decodeText(files[i]!, { prefer: norm }) : d));
}

// Windows-1252 code points for bytes 0x80-0x9F (0: unassigned there, kept as the Latin-1 control).
const CP1252_HIGH = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0, 0,
  0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
];

/** Windows-1252, with its five undefined bytes kept as Latin-1 controls rather than replaced. */
export function decodeCp1252Lenient(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b >= 0x80 && b <= 0x9f ? CP1252_HIGH[b - 0x80] || b : b);
  return out;
}

/** Reads and decodes a whole text file (a key CSV, a JSONL file): `force` as `--text-encoding` gives it. */
export function readTextFile(file: string, force?: string): DecodedText {
  return decodeText(readFileSync(file), force ? { force: resolveEncodingName(force) } : {});
}
