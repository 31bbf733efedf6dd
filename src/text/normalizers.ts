// Normalizers of tokenizer.json ("normalizer" field), applied in place to a NormalizedString.
import {
  NormalizedString,
  regexPattern,
  stringPattern,
  chars,
  type Change,
  type Pattern,
} from './normalized-string.js';
import {
  isBertControl,
  isBertWhitespace,
  isChineseChar,
  isNonspacingMark,
  translateOnigRegex,
  utf8Bytes,
} from './unicode.js';

export type Normalizer = (s: NormalizedString) => void;

type Json = Record<string, any>;

/** A `pattern` field: {"String": "..."} or {"Regex": "..."}. */
export function patternFrom(p: Json | undefined, where: string): Pattern {
  if (p && typeof p.String === 'string') return stringPattern(p.String);
  if (p && typeof p.Regex === 'string') return regexPattern(translateOnigRegex(p.Regex, where));
  throw new Error(`${where}: expected pattern {"String": ...} or {"Regex": ...}, got ${JSON.stringify(p)}`);
}

export function buildNormalizer(cfg: Json | null | undefined, where: string): Normalizer | null {
  if (cfg === null || cfg === undefined) return null;
  const at = `${where}: normalizer ${cfg.type}`;
  switch (cfg.type) {
    case 'Sequence': {
      const parts = (cfg.normalizers as Json[])
        .map((n, i) => buildNormalizer(n, `${where}: normalizers[${i}]`))
        .filter((n): n is Normalizer => n !== null);
      return (s) => parts.forEach((n) => n(s));
    }
    case 'BertNormalizer':
      return bertNormalizer(
        cfg.clean_text ?? true,
        cfg.handle_chinese_chars ?? true,
        cfg.strip_accents ?? null,
        cfg.lowercase ?? true,
      );
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = cfg.type as 'NFC';
      return (s) => s.unicodeNormalize(form);
    }
    case 'Lowercase':
      return (s) => s.lowercase();
    case 'StripAccents':
      return (s) => s.filter((c) => !isNonspacingMark(c));
    case 'Strip':
      return (s) => s.strip(cfg.strip_left ?? true, cfg.strip_right ?? true);
    case 'Replace': {
      const pat = patternFrom(cfg.pattern, at);
      const content = String(cfg.content ?? '');
      return (s) => s.replace(pat, content);
    }
    case 'Prepend': {
      const p = String(cfg.prepend ?? '');
      return (s) => s.prepend(p);
    }
    case 'Nmt':
      return nmt;
    case 'Precompiled':
      return precompiledNormalizer(cfg.precompiled_charsmap, at);
    default:
      throw new Error(`${where}: unsupported normalizer type '${cfg.type}'`);
  }
}

function bertNormalizer(
  cleanText: boolean,
  chinese: boolean,
  stripAccents: boolean | null,
  lowercase: boolean,
): Normalizer {
  const strip = stripAccents ?? lowercase;
  return (s) => {
    if (cleanText) {
      s.filter((c) => !(c === '\0' || c === '\ufffd' || isBertControl(c)));
      s.mapChars((c) => (isBertWhitespace(c) ? ' ' : c));
    }
    if (chinese) {
      const dest: Change[] = [];
      for (const c of s.normalized) {
        if (isChineseChar(c)) dest.push([' ', 0], [c, 1], [' ', 1]);
        else dest.push([c, 0]);
      }
      s.transform(dest);
    }
    if (strip) {
      s.unicodeNormalize('NFD');
      s.filter((c) => !isNonspacingMark(c));
    }
    if (lowercase) s.lowercase();
  };
}

/** The NMT normalizer of sentencepiece: drops some controls, maps odd spaces to a space. */
function nmt(s: NormalizedString): void {
  s.filter((c) => {
    const cp = c.codePointAt(0) ?? 0;
    return !(
      (cp >= 0x1 && cp <= 0x8) ||
      cp === 0xb ||
      cp === 0xe ||
      cp === 0x1f ||
      cp === 0x7f ||
      cp === 0x8f ||
      cp === 0x9f
    );
  });
  s.mapChars((c) => {
    const cp = c.codePointAt(0) ?? 0;
    if (
      cp === 0x9 ||
      cp === 0xa ||
      cp === 0xc ||
      cp === 0xd ||
      cp === 0x1680 ||
      (cp >= 0x200b && cp <= 0x200f) ||
      cp === 0x2028 ||
      cp === 0x2029 ||
      cp === 0x2581 ||
      cp === 0xfeff ||
      cp === 0xfffd
    )
      return ' ';
    return c;
  });
}

/**
 * sentencepiece's precompiled character map: a Darts double-array trie over UTF-8 bytes whose values point
 * into a blob of NUL-terminated replacement strings. Applied per grapheme (shorter than 6 bytes), else per char.
 */
function precompiledNormalizer(charsmap: unknown, where: string): Normalizer {
  if (typeof charsmap !== 'string') throw new Error(`${where}: precompiled_charsmap must be a base64 string`);
  const buf = Buffer.from(charsmap, 'base64');
  if (buf.length < 4) throw new Error(`${where}: precompiled_charsmap is too short (${buf.length} bytes)`);
  const trieSize = buf.readUInt32LE(0);
  const n = Math.floor(trieSize / 4);
  if (4 + trieSize > buf.length)
    throw new Error(`${where}: precompiled_charsmap trie size ${trieSize} exceeds the data`);
  const trie = new Uint32Array(n);
  for (let i = 0; i < n; i++) trie[i] = buf.readUInt32LE(4 + 4 * i);
  const blob = buf.subarray(4 + trieSize);
  const offsetOf = (u: number) => (u >>> 10) * ((u & (1 << 9)) !== 0 ? 256 : 1);
  const transform = (chunk: string): string | null => {
    const key = utf8Bytes(chunk);
    let pos = 0;
    let unit = trie[pos];
    pos ^= offsetOf(unit);
    for (const c of key) {
      if (c === 0) break;
      pos ^= c;
      unit = trie[pos];
      if (unit === undefined || (unit & 0x800000ff) >>> 0 !== c) return null;
      pos ^= offsetOf(unit);
      if (((unit >>> 8) & 1) === 1) {
        // The first (shortest) prefix hit is used, as the Rust port does.
        const start = trie[pos] & 0x7fffffff;
        let end = start;
        while (end < blob.length && blob[end] !== 0) end++;
        return blob.subarray(start, end).toString('utf8');
      }
    }
    return null;
  };
  const segmenter = new Intl.Segmenter('und', { granularity: 'grapheme' });
  return (s) => {
    const dest: Change[] = [];
    let modified = false;
    const replace = (oldPart: string, newPart: string) => {
      const oldCount = chars(oldPart).length;
      const news = chars(newPart);
      const diff = news.length - oldCount;
      const first = dest.length;
      for (const c of news) dest.push([c, 0]);
      if (diff > 0) for (let k = Math.max(first, dest.length - diff); k < dest.length; k++) dest[k][1] = 1;
      else if (diff < 0 && dest.length > 0) dest[dest.length - 1][1] += diff;
    };
    for (const { segment } of segmenter.segment(s.normalized)) {
      if (utf8Bytes(segment).length < 6) {
        const norm = transform(segment);
        if (norm !== null) {
          modified = true;
          replace(segment, norm);
          continue;
        }
      }
      for (const c of segment) {
        const norm = transform(c);
        if (norm !== null) {
          modified = true;
          replace(c, norm);
        } else dest.push([c, 0]);
      }
    }
    if (modified) s.transform(dest);
  };
}
