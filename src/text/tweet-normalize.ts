// Tweet normalisation as BERTweet applies it before its tokenizer, as the paper's code runs it (VinAI's
// TweetNormalizer: NLTK's TweetTokenizer, then mentions -> @USER, links -> HTTPURL, one-character tokens
// demojised with the `emoji` package 2.2.0, English contractions split), and a light in-place variant
// (mentions and links replaced, nothing else) for models such as Bernice whose byte-level tokenizer takes raw text.
//
// Two rule sets of NLTK's TweetTokenizer: 'nltk-2020' (NLTK 3.5, the copy the paper's code embeds and
// BERTweet was pre-trained with) and 'nltk-3.8' (Debian's python3-nltk: whole emoji sequences with zero-width
// joiners and skin tones, flag pairs and tag flags kept as one token, '</3' an emoticon). NLTK compiles them with
// the `regex` module, case-insensitive; the classes below reproduce its Unicode \w, \d, \s, '.' and \b in
// JavaScript (test/text/tweet-normalize.test.ts checks them against Python's over every code point Unicode 14
// assigns; code points assigned later follow Node's newer Unicode tables).
import emojiTable from './data/emoji-demojize-2.2.0.json' with { type: 'json' };
import htmlEntities from './data/html-name2codepoint.json' with { type: 'json' };

export const TWEET_TOKENIZERS = ['nltk-2020', 'nltk-3.8'] as const;
export type TweetTokenizerRules = (typeof TWEET_TOKENIZERS)[number];

export interface TweetNormalizeOptions {
  /** 'bertweet' (default): tokenize as NLTK's TweetTokenizer and re-join with spaces; 'light': replace in place. */
  style?: 'bertweet' | 'light';
  /** 'demojize' (default, as BERTweet and the paper) names one-character emoji tokens ':name:'; 'keep' leaves them. */
  emoji?: 'keep' | 'demojize';
  /** The TweetTokenizer rules: 'nltk-2020' (default, the paper's) or 'nltk-3.8'. */
  tokenizer?: TweetTokenizerRules;
  /** Emoji -> name without colons, replacing the bundled emoji 2.2.0 table (e.g. "😂" -> "face_with_tears_of_joy"). */
  emojiNames?: ReadonlyMap<string, string> | Record<string, string>;
}

// Python `regex` module classes (UNICODE): \w is Alphabetic, marks, decimal digits, connector punctuation and
// the joiners; [^\W\d_] the same without digits and '_'; \s the White_Space characters without U+FEFF.
const W = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';
const LETTER = '[\\p{Alphabetic}\\p{M}\\p{Join_Control}\\u203F\\u2040\\u2054\\uFE33\\uFE34\\uFE4D-\\uFE4F\\uFF3F]';
const D = '\\p{Nd}';
const S = '\\t-\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';
const DOT = '[^\\n]';
// \b of the regex module: between a \w character and a non-\w one (JavaScript's \b knows only ASCII \w).
const WB = `(?:(?<=[${W}])(?![${W}])|(?<![${W}])(?=[${W}]))`;
// [a-z] under the regex module's IGNORECASE also takes İ (U+0130); JavaScript's /iu adds K and ſ as it does.
const AZ = 'a-z\\u0130';
/** The classes above, for the test that checks them against Python's regex module. */
export const PYTHON_REGEX_CLASSES = { w: `[${W}]`, letter: LETTER, d: `[${D}]`, s: `[${S}]`, az: `[${AZ}]` };

const PAREN1 = `\\([^${S}()]*?\\([^${S}()]+\\)[^${S}()]*?\\)`;
const PAREN0 = `\\([^${S}]+?\\)`;
const URLS =
  `(?:https?:(?:\\/{1,3}|[${AZ}0-9%])|[${AZ}0-9.\\-]+[.](?:[${AZ}]{2,13})\\/)` +
  `(?:[^${S}()<>{}\\[\\]]+|${PAREN1}|${PAREN0})+` +
  `(?:${PAREN1}|${PAREN0}|[^${S}\`!()\\[\\]{};:'".,<>?«»“”‘’])` +
  `|(?:(?<!@)[${AZ}0-9]+(?:[.\\-][${AZ}0-9]+)*[.](?:[${AZ}]{2,13})${WB}\\/?(?!@))`;
const PHONE = `(?:(?:\\+?[01][ *\\-.\\)]*)?(?:[\\(]?${D}{3}[ *\\-.\\)]*)?${D}{3}[ *\\-.\\)]*${D}{4})`;
const EYES_MOUTH =
  "[<>]?[:;=8][\\-o\\*']?[\\)\\]\\(\\[dDpP\\/:\\}\\{@\\|\\\\]|[\\)\\]\\(\\[dDpP\\/:\\}\\{@\\|\\\\][\\-o\\*']?[:;=8][<>]?";
const EMOTICONS_2020 = `(?:${EYES_MOUTH}|<3)`;
const EMOTICONS_38 = `(?:${EYES_MOUTH}|<\\/?3)`;
const HTML_TAG = `<[^>${S}]+>`;
const ARROWS = '[\\-]+>|<[\\-]+';
const HANDLE = `(?:@[${W}_]+)`;
const HASHTAG = `(?:#+[${W}_]+[${W}'_\\-]*[${W}_]+)`;
const EMAIL = `[${W}.+\\-]+@[${W}\\-]+\\.(?:[${W}\\-]\\.?)+[${W}\\-]`;
// 3.8: an emoji with skin tones joined by zero-width joiners, or with one skin tone; flags.
const ZWJ_EMOJI = `${DOT}(?:[\\u{1F3FB}-\\u{1F3FF}]?(?:\\u200D${DOT}[\\u{1F3FB}-\\u{1F3FF}]?)+|[\\u{1F3FB}-\\u{1F3FF}])`;
const FLAGS =
  '(?:[\\u{1F1E6}-\\u{1F1FF}]{2}' +
  '|\\u{1F3F4}\\u{E0067}\\u{E0062}\\u{E0065}\\u{E006E}\\u{E0067}\\u{E007F}' +
  '|\\u{1F3F4}\\u{E0067}\\u{E0062}\\u{E0073}\\u{E0063}\\u{E0074}\\u{E007F}' +
  '|\\u{1F3F4}\\u{E0067}\\u{E0062}\\u{E0077}\\u{E006C}\\u{E0073}\\u{E007F})';
const WORDS =
  `(?:${LETTER}(?:${LETTER}|['\\-_])+${LETTER})` +
  `|(?:[+\\-]?${D}+[,/.:\\-]${D}+[+\\-]?)` +
  `|(?:[${W}_]+)` +
  `|(?:\\.(?:[${S}]*\\.){1,})` +
  `|(?:[^${S}])`;

// Both rule sets put the phone pattern second (3.8's default match_phone_numbers=True).
const RULES: Record<TweetTokenizerRules, string[]> = {
  'nltk-2020': [URLS, PHONE, EMOTICONS_2020, HTML_TAG, ARROWS, HANDLE, HASHTAG, EMAIL, WORDS],
  'nltk-3.8': [URLS, PHONE, EMOTICONS_38, HTML_TAG, ARROWS, HANDLE, HASHTAG, EMAIL, ZWJ_EMOJI, FLAGS, WORDS],
};
const WORD_RE: Record<TweetTokenizerRules, RegExp> = {
  'nltk-2020': new RegExp(RULES['nltk-2020'].join('|'), 'giu'),
  'nltk-3.8': new RegExp(RULES['nltk-3.8'].join('|'), 'giu'),
};
// Runs of 4+ of one non-alphanumeric character are cut to 3 (NLTK: the tokenizing regex is slow on them).
const HANG_RE = /([^a-zA-Z0-9])\1{3,}/gu;

/** The rule set named by a flag or option, or an error listing the two. */
export function tweetTokenizerRules(name: string, where = '--tweet-tokenizer'): TweetTokenizerRules {
  if ((TWEET_TOKENIZERS as readonly string[]).includes(name)) return name as TweetTokenizerRules;
  throw new Error(`${where}: expected ${TWEET_TOKENIZERS.join(' or ')}, got '${name}'`);
}

const NAMED = htmlEntities as Record<string, number>;
const ENTITY_RE = /&(#?(x?))([^&;\t-\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+);/gu;

/** HTML entities to characters as NLTK does: numeric ones (0x80-0x9F read as Windows-1252), HTML 4 names; others dropped. */
export function unescapeHtmlEntities(text: string): string {
  return text.replace(ENTITY_RE, (_whole, hash: string, hex: string, body: string) => {
    let n: number | undefined;
    if (hash) {
      // Python's int(): digits with optional sign and underscores between digits, surrounding spaces.
      const ok = hex ? /^\s*[+-]?[0-9a-f]+(?:_[0-9a-f]+)*\s*$/iu.test(body) : /^\s*[+-]?\d+(?:_\d+)*\s*$/u.test(body);
      if (!ok) return '';
      n = parseIntPy(body.replaceAll('_', ''), hex ? 16 : 10);
      if (n >= 0x80 && n <= 0x9f) return CP1252_C1[n - 0x80]!;
    } else {
      n = Object.hasOwn(NAMED, body) ? NAMED[body] : undefined;
    }
    if (n === undefined || n < 0 || n > 0x10ffff) return '';
    return String.fromCodePoint(n);
  });
}

// int() of a string of Unicode digits (Python's int accepts any Nd digit, e.g. '&#١٢٣;').
function parseIntPy(s: string, base: number): number {
  let t = s.trim();
  let sign = 1;
  if (t[0] === '+' || t[0] === '-') {
    sign = t[0] === '-' ? -1 : 1;
    t = t.slice(1);
  }
  let n = 0;
  for (const ch of t) {
    const d = base === 16 && /[a-f]/iu.test(ch) ? parseInt(ch, 16) : digitValue(ch);
    n = n * base + d;
  }
  return sign * n;
}

// The value of a decimal digit of any script: Unicode puts each script's 0-9 in runs of ten from a zero.
function digitValue(ch: string): number {
  const cp = ch.codePointAt(0)!;
  let start = cp;
  while (/\p{Nd}/u.test(String.fromCodePoint(start - 1))) start--;
  return (cp - start) % 10;
}

// bytes((n,)).decode('cp1252') for 0x80..0x9F; the five bytes Windows-1252 leaves undefined raise a
// UnicodeDecodeError there, a ValueError NLTK catches, so those entities are dropped ('').
const CP1252_C1 = Array.from('€\0‚ƒ„…†‡ˆ‰Š‹Œ\0Ž\0\0‘’“”•–—˜™š›œ\0žŸ', (c) => (c === '\0' ? '' : c));

/** Splits a tweet into tokens as NLTK's TweetTokenizer() does with its defaults (case kept). */
export function tweetTokenize(text: string, rules: TweetTokenizerRules = 'nltk-2020'): string[] {
  const safe = unescapeHtmlEntities(text).replace(HANG_RE, '$1$1$1');
  return Array.from(safe.matchAll(WORD_RE[rules]), (m) => m[0]);
}

const EMOJI_2_2_0 = emojiTable as Record<string, string>;

function demojize(tok: string, opts: TweetNormalizeOptions): string {
  if ((opts.emoji ?? 'demojize') === 'keep') return tok;
  const names = opts.emojiNames;
  if (!names) return Object.hasOwn(EMOJI_2_2_0, tok) ? EMOJI_2_2_0[tok]! : tok;
  const name = names instanceof Map ? names.get(tok) : (names as Record<string, string>)[tok];
  return name === undefined ? tok : `:${name}:`;
}

function isUrlToken(tok: string): boolean {
  const low = tok.toLowerCase();
  return low.startsWith('http') || low.startsWith('www');
}

// Python's str.split() separators (str.isspace): \s of the regex module plus the four information separators.
// eslint-disable-next-line no-control-regex -- Python splits on the information separators too
const PY_SPLIT = /[\t-\r\x1c-\x1f \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+/u;

/** BERTweet's normalisation (VinAI TweetNormalizer.normalizeTweet) or the light in-place variant. */
export function normalizeTweet(text: string, opts: TweetNormalizeOptions = {}): string {
  if ((opts.style ?? 'bertweet') === 'light') return normalizeTweetLight(text, opts);
  const tokens = tweetTokenize(text.replaceAll('’', "'").replaceAll('…', '...'), opts.tokenizer ?? 'nltk-2020');
  let s = tokens
    .map((tok) => {
      if (tok.startsWith('@')) return '@USER';
      if (isUrlToken(tok)) return 'HTTPURL';
      // Python's len() counts code points.
      if (codePoints(tok) === 1) return demojize(tok, opts);
      if (tok === '’') return "'";
      if (tok === '…') return '...';
      return tok;
    })
    .join(' ');
  s = s
    .replaceAll('cannot ', 'can not ')
    .replaceAll("n't ", " n't ")
    .replaceAll("n 't ", " n't ")
    .replaceAll("ca n't", "can't")
    .replaceAll("ai n't", "ain't");
  s = s
    .replaceAll("'m ", " 'm ")
    .replaceAll("'re ", " 're ")
    .replaceAll("'s ", " 's ")
    .replaceAll("'ll ", " 'll ")
    .replaceAll("'d ", " 'd ")
    .replaceAll("'ve ", " 've ");
  s = s
    .replaceAll(' p . m .', '  p.m.')
    .replaceAll(' p . m ', ' p.m ')
    .replaceAll(' a . m .', ' a.m.')
    .replaceAll(' a . m ', ' a.m ');
  return s
    .split(PY_SPLIT)
    .filter((t) => t.length > 0)
    .join(' ');
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

const LIGHT_RE = new RegExp(
  `(?<![\\p{L}\\p{N}_@])@[\\p{L}\\p{N}_]+|(?:https?:\\/\\/|www\\.)[^\\s]+|\\p{Extended_Pictographic}(?:\\u{FE0F}|[\\u{1F3FB}-\\u{1F3FF}]|\\u200d\\p{Extended_Pictographic}\\u{FE0F}?)*`,
  'giu',
);

/** Replaces mentions by @USER and links by HTTPURL in place, emoji kept (default here) or demojised. */
export function normalizeTweetLight(text: string, opts: TweetNormalizeOptions = {}): string {
  return text.replace(LIGHT_RE, (m) => {
    if (m.startsWith('@')) return '@USER';
    if (/^(https?:|www\.)/i.test(m)) return 'HTTPURL';
    return opts.emoji === 'demojize' ? demojize(m, opts) : m;
  });
}
