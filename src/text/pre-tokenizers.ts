// Pre-tokenizers of tokenizer.json ("pre_tokenizer" field): they cut the normalised text into words that the
// model then tokenizes one by one.
import { NormalizedString, charPattern, regexPattern, type Change, type SplitBehavior } from './normalized-string.js';
import { patternFrom } from './normalizers.js';
import { BYTE_TO_CHAR, isBertPunctuation, isNumeric, isWhitespace, translateOnigRegex, utf8Bytes } from './unicode.js';

/** A piece of the input: its normalised text and, once the model (or an added token) ran, its tokens. */
export interface Split {
  normalized: NormalizedString;
  tokens?: Array<{ id: number; value: string; offsets: [number, number] }>;
}

/** The input while it is cut into pieces (PreTokenizedString). */
export class PreTokenized {
  constructor(public splits: Split[]) {}

  /** Replaces every split without tokens by the pieces `f` returns; empty pieces are dropped. */
  split(f: (s: NormalizedString) => Array<NormalizedString | Split>): void {
    const out: Split[] = [];
    for (const sp of this.splits) {
      if (sp.tokens) {
        out.push(sp);
        continue;
      }
      for (const n of f(sp.normalized)) {
        const piece: Split = n instanceof NormalizedString ? { normalized: n } : n;
        if (!piece.normalized.isEmpty()) out.push(piece);
      }
    }
    this.splits = out;
  }

  /** Normalises in place every split without tokens. */
  normalize(f: (s: NormalizedString) => void): void {
    for (const sp of this.splits) if (!sp.tokens) f(sp.normalized);
  }
}

export type PreTokenizer = (p: PreTokenized) => void;

type Json = Record<string, any>;

// GPT-2's word pattern, as the ByteLevel pre-tokenizer compiles it (Oniguruma syntax).
const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const GPT2_RE = translateOnigRegex(GPT2_PATTERN, 'ByteLevel');
const WHITESPACE_RE = translateOnigRegex('\\w+|[^\\w\\s]+', 'Whitespace');

const BEHAVIORS: Record<string, SplitBehavior> = {
  removed: 'Removed',
  isolated: 'Isolated',
  merged_with_previous: 'MergedWithPrevious',
  mergedwithprevious: 'MergedWithPrevious',
  merged_with_next: 'MergedWithNext',
  mergedwithnext: 'MergedWithNext',
  contiguous: 'Contiguous',
};

function behaviorFrom(v: unknown, dflt: SplitBehavior, where: string): SplitBehavior {
  if (v === undefined || v === null) return dflt;
  const b = BEHAVIORS[String(v).toLowerCase()];
  if (!b)
    throw new Error(
      `${where}: unknown split behavior '${String(v)}' (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)`,
    );
  return b;
}

/** Maps every char to the printable chars of its UTF-8 bytes; all of them keep the char's alignment. */
export function byteLevelMap(n: NormalizedString): void {
  const dest: Change[] = [];
  for (const c of n.normalized) {
    const bytes = utf8Bytes(c);
    bytes.forEach((b, i) => dest.push([BYTE_TO_CHAR[b], i > 0 ? 1 : 0]));
  }
  n.transform(dest);
}

export function buildPreTokenizer(cfg: Json | null | undefined, where: string): PreTokenizer | null {
  if (cfg === null || cfg === undefined) return null;
  const at = `${where}: pre_tokenizer ${cfg.type}`;
  switch (cfg.type) {
    case 'Sequence': {
      const parts = (cfg.pretokenizers as Json[])
        .map((p, i) => buildPreTokenizer(p, `${where}: pretokenizers[${i}]`))
        .filter((p): p is PreTokenizer => p !== null);
      return (p) => parts.forEach((f) => f(p));
    }
    case 'BertPreTokenizer':
      return (p) => {
        p.split((n) => n.split(charPattern(isWhitespace), 'Removed'));
        p.split((n) => n.split(charPattern(isBertPunctuation), 'Isolated'));
      };
    case 'Whitespace':
      return (p) => p.split((n) => n.split(regexPattern(WHITESPACE_RE), 'Removed', true));
    case 'WhitespaceSplit':
      return (p) => p.split((n) => n.split(charPattern(isWhitespace), 'Removed'));
    case 'Punctuation': {
      const b = behaviorFrom(cfg.behavior, 'Isolated', at);
      return (p) => p.split((n) => n.split(charPattern(isBertPunctuation), b));
    }
    case 'Digits': {
      const b: SplitBehavior = cfg.individual_digits ? 'Isolated' : 'Contiguous';
      return (p) => p.split((n) => n.split(charPattern(isNumeric), b));
    }
    case 'CharDelimiterSplit': {
      const d = String(cfg.delimiter);
      return (p) =>
        p.split((n) =>
          n.split(
            charPattern((c) => c === d),
            'Removed',
          ),
        );
    }
    case 'Split': {
      const pat = patternFrom(cfg.pattern, at);
      const b = behaviorFrom(cfg.behavior, 'Removed', at);
      const invert = Boolean(cfg.invert);
      return (p) => p.split((n) => n.split(pat, b, invert));
    }
    case 'ByteLevel': {
      const addPrefixSpace = cfg.add_prefix_space ?? true;
      const useRegex = cfg.use_regex ?? true;
      return (p) => {
        p.split((n) => {
          if (addPrefixSpace && !n.normalized.startsWith(' ')) n.prepend(' ');
          return useRegex ? n.split(regexPattern(GPT2_RE), 'Isolated') : [n];
        });
        p.normalize(byteLevelMap);
      };
    }
    case 'Metaspace': {
      const replacement = String(cfg.replacement ?? '\u2581');
      const scheme: string = cfg.prepend_scheme ?? (cfg.add_prefix_space === false ? 'never' : 'always');
      const split = cfg.split ?? true;
      if (!['always', 'first', 'never'].includes(scheme))
        throw new Error(`${at}: unknown prepend_scheme '${scheme}' (expected always, first or never)`);
      return (p) =>
        p.split((n) => {
          n.replace(
            charPattern((c) => c === ' '),
            replacement,
          );
          if (scheme === 'always' || (scheme === 'first' && n.originalStart === 0)) {
            if (!n.normalized.startsWith(replacement)) n.prepend(replacement);
          }
          return split
            ? n.split(
                charPattern((c) => c === replacement),
                'MergedWithNext',
              )
            : [n];
        });
    }
    default:
      throw new Error(`${where}: unsupported pre_tokenizer type '${cfg.type}'`);
  }
}
