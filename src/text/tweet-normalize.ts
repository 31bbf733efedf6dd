// Tweet normalisation as BERTweet applies it before its tokenizer (VinAI's TweetNormalizer: NLTK's
// TweetTokenizer, then user mentions -> @USER, links -> HTTPURL, emoji kept or demojised, English contractions
// split), and a light in-place variant (mentions and links replaced, everything else untouched) for models
// such as Bernice whose byte-level tokenizer takes raw text.

export interface TweetNormalizeOptions {
  /** 'bertweet' (default): tokenize as NLTK's TweetTokenizer and re-join with spaces; 'light': replace in place. */
  style?: 'bertweet' | 'light';
  /** 'keep' (default) leaves emoji as they are; 'demojize' replaces each by its name (needs `emojiNames`). */
  emoji?: 'keep' | 'demojize';
  /** Emoji -> name without colons (e.g. "😂" -> "face_with_tears_of_joy"), for emoji: 'demojize'. */
  emojiNames?: ReadonlyMap<string, string> | Record<string, string>;
}

// NLTK casual.py's token patterns, in JavaScript syntax (\w widened to Unicode as Python's is).
const W = '[\\p{L}\\p{M}\\p{N}\\p{Pc}]';
const LETTER = '[\\p{L}\\p{M}]';
const NOT_SPACE_PUNCT = '[^\\s`!()\\[\\]{};:\'".,<>?«»“”‘’]';
const PAREN1 = '\\([^\\s()]{0,255}?\\([^\\s()]{1,255}\\)[^\\s()]{0,255}?\\)';
const PAREN0 = '\\([^\\s]{1,255}?\\)';
const URLS =
  `(?:https?:(?:\\/{1,3}|[a-z0-9%])|[a-z0-9.\\-]{1,255}[.](?:[a-z]{2,13})\\/)` +
  `(?:[^\\s()<>{}\\[\\]]+|${PAREN1}|${PAREN0})+` +
  `(?:${PAREN1}|${PAREN0}|${NOT_SPACE_PUNCT})` +
  `|(?:(?<!@)[a-z0-9]+(?:[.\\-][a-z0-9]+){0,126}[.](?:[a-z]{2,13})\\b\\/?(?!@))`;
const PHONE = '(?:(?:\\+?[01][ *\\-.\\)]*)?(?:[\\(]?\\d{3}[ *\\-.\\)]*)?\\d{3}[ *\\-.\\)]*\\d{4})';
const EMOTICONS =
  "(?:[<>]?[:;=8][\\-o\\*']?[\\)\\]\\(\\[dDpP\\/:\\}\\{@\\|\\\\]|[\\)\\]\\(\\[dDpP\\/:\\}\\{@\\|\\\\][\\-o\\*']?[:;=8][<>]?|<\\/?3)";
const HTML_TAG = '<[^>\\s]+>';
const ARROWS = '[\\-]+>|<[\\-]+';
const HANDLE = `(?:@${W}+)`;
const HASHTAG = `(?:#+${W}+[${W.slice(1, -1)}'\\-]*${W}+)`;
const EMAIL = `[${W.slice(1, -1)}.+\\-]{1,64}@[${W.slice(1, -1)}\\-]{1,63}\\.(?:[${W.slice(1, -1)}\\-]\\.?){1,251}[${W.slice(1, -1)}\\-]`;
const ZWJ_EMOJI = '.(?:[\\u{1F3FB}-\\u{1F3FF}]?(?:\\u200d.[\\u{1F3FB}-\\u{1F3FF}]?)+|[\\u{1F3FB}-\\u{1F3FF}])';
const FLAGS = '(?:[\\u{1F1E6}-\\u{1F1FF}]{2}|\\u{1F3F4}[\\u{E0061}-\\u{E007A}]{5}\\u{E007F})';
const WORDS =
  `(?:${LETTER}(?:${LETTER}|['\\-_])+${LETTER})` +
  `|(?:[+\\-]?\\d+[,/.:\\-]\\d+[+\\-]?)` +
  `|(?:${W}+)` +
  `|(?:\\.(?:\\s*\\.){1,})` +
  `|(?:\\S)`;

const WORD_RE = new RegExp(
  [URLS, PHONE, EMOTICONS, HTML_TAG, ARROWS, HANDLE, HASHTAG, EMAIL, ZWJ_EMOJI, FLAGS, WORDS].join('|'),
  'giu',
);
const HANG_RE = /([^\p{L}\p{N}])\1{3,}/gu;

// Windows-1252 at bytes 0x80..0x9F ('' where it has no character, as NLTK then drops the entity).
const CP1252_C1 = Array.from('€\0‚ƒ„…†‡ˆ‰Š‹Œ\0Ž\0\0‘’“”•–—˜™š›œ\0žŸ', (c) => (c === '\0' ? '' : c));

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** HTML entities to characters (numeric ones and the common named ones), as Twitter's API escapes text. */
export function unescapeHtmlEntities(text: string): string {
  return text.replace(/&(#?(x?))([^&;\s]+);/g, (whole, _hash: string, hex: string, body: string) => {
    if (_hash) {
      const n = parseInt(body, hex ? 16 : 10);
      // Like NLTK, the C1 range is read as Windows-1252 and illegal code points are dropped.
      if (Number.isNaN(n)) return '';
      if (n >= 0x80 && n <= 0x9f) return CP1252_C1[n - 0x80];
      if (n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff)) return '';
      return String.fromCodePoint(n);
    }
    const named = NAMED_ENTITIES[body];
    return named ?? whole;
  });
}

/** Splits a tweet into tokens as NLTK's TweetTokenizer() does with its defaults (case kept). */
export function tweetTokenize(text: string): string[] {
  const safe = unescapeHtmlEntities(text).replace(HANG_RE, '$1$1$1');
  return Array.from(safe.matchAll(WORD_RE), (m) => m[0]);
}

function isUrlToken(tok: string): boolean {
  const low = tok.toLowerCase();
  return low.startsWith('http') || low.startsWith('www');
}

function emojiName(tok: string, opts: TweetNormalizeOptions): string {
  if (opts.emoji !== 'demojize') return tok;
  const names = opts.emojiNames;
  if (!names) {
    throw new Error(
      "tweet normalisation: emoji 'demojize' needs an emoji name table (emojiNames); none is bundled. Use emoji: 'keep'.",
    );
  }
  const name = names instanceof Map ? names.get(tok) : (names as Record<string, string>)[tok];
  return name === undefined ? tok : `:${name}:`;
}

/** BERTweet's normalisation (VinAI TweetNormalizer.normalizeTweet) or the light in-place variant. */
export function normalizeTweet(text: string, opts: TweetNormalizeOptions = {}): string {
  if ((opts.style ?? 'bertweet') === 'light') return normalizeTweetLight(text, opts);
  const tokens = tweetTokenize(text.replaceAll('’', "'").replaceAll('…', '...'));
  let s = tokens
    .map((tok) => {
      if (tok.startsWith('@')) return '@USER';
      if (isUrlToken(tok)) return 'HTTPURL';
      if (Array.from(tok).length === 1) return emojiName(tok, opts);
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
    .split(/\s+/u)
    .filter((t) => t.length > 0)
    .join(' ');
}

const LIGHT_RE = new RegExp(
  `(?<![\\p{L}\\p{N}_@])@[\\p{L}\\p{N}_]+|(?:https?:\\/\\/|www\\.)[^\\s]+|\\p{Extended_Pictographic}(?:\\u{FE0F}|[\\u{1F3FB}-\\u{1F3FF}]|\\u200d\\p{Extended_Pictographic}\\u{FE0F}?)*`,
  'giu',
);

/** Replaces mentions by @USER and links by HTTPURL in place, emoji kept or demojised; nothing else changes. */
export function normalizeTweetLight(text: string, opts: TweetNormalizeOptions = {}): string {
  return text.replace(LIGHT_RE, (m) => {
    if (m.startsWith('@')) return '@USER';
    if (/^(https?:|www\.)/i.test(m)) return 'HTTPURL';
    return emojiName(m, opts);
  });
}
