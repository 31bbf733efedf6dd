// Tweet normalisation against the references of test/tools/gen_tweet_normalize_refs.py: 418 tweets tokenised
// by the 2020 TweetTokenizer rules (as the paper's code embeds them, compiled with Python's `regex`) and by
// Debian's NLTK 3.8, normalised as BERTweet does with emoji 2.2.0 demojisation and with emoji kept; the
// character classes against Python's over every code point; `tandem normalize` on the same set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  normalizeTweet,
  normalizeTweetLight,
  PYTHON_REGEX_CLASSES,
  tweetTokenize,
  unescapeHtmlEntities,
  TWEET_TOKENIZERS,
  type TweetTokenizerRules,
} from '../../src/text/tweet-normalize.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';

const DIR = join(REPO_ROOT, 'test', 'fixtures', 'tweets');
type ByRules = Record<TweetTokenizerRules, string>;
const cases = JSON.parse(readFileSync(join(DIR, 'normalize-refs.json'), 'utf8')) as {
  text: string;
  tokens: Record<TweetTokenizerRules, string[]>;
  demojize: ByRules;
  keep: ByRules;
}[];

test('the references cover what the issue lists, and the two rule sets differ on them', () => {
  assert.ok(cases.length >= 400, `${cases.length} tweets`);
  const has = (re: RegExp): number => cases.filter((c) => re.test(c.text)).length;
  assert.ok(has(/@\w/) > 40 && has(/https?:|www\./) > 30 && has(/n't|'s|'m|'re|'ll|'d|'ve/) > 50);
  assert.ok(has(/\u{1F3FB}|\u{1F3FF}|\u{1F3FD}|\u{1F3FE}/u) > 10, 'skin tones');
  assert.ok(has(/\u200d/) > 20, 'ZWJ sequences');
  assert.ok(has(/[\u{1F1E6}-\u{1F1FF}]{2}/u) > 10, 'flags');
  assert.ok(has(/\u20e3/) > 10, 'keycaps');
  assert.ok(has(/[\uFF10-\uFF19]/) > 10 && has(/[\uFF21-\uFF5A]/) > 10, 'full-width digits and letters');
  const differ = cases.filter((c) => c.tokens['nltk-2020'].join('\u0001') !== c.tokens['nltk-3.8'].join('\u0001'));
  assert.ok(differ.length > 100, `${differ.length} tweets tokenised differently`);
});

for (const rules of TWEET_TOKENIZERS) {
  test(`tweetTokenize (${rules}) gives Python's tokens for every reference tweet`, () => {
    let n = 0;
    for (const c of cases) {
      assert.deepEqual(tweetTokenize(c.text, rules), c.tokens[rules], JSON.stringify(c.text));
      n++;
    }
    assert.equal(n, cases.length);
  });

  test(`normalizeTweet (${rules}) equals BERTweet's normalisation, demojised (emoji 2.2.0) and kept`, () => {
    for (const c of cases) {
      assert.equal(normalizeTweet(c.text, { tokenizer: rules }), c.demojize[rules], JSON.stringify(c.text));
      assert.equal(normalizeTweet(c.text, { tokenizer: rules, emoji: 'keep' }), c.keep[rules], JSON.stringify(c.text));
    }
  });
}

test("the character classes match Python's regex module on every code point Unicode 14 assigns", () => {
  const py = JSON.parse(readFileSync(join(DIR, 'python-regex-classes.json'), 'utf8')) as Record<string, number[][]>;
  const assigned = new Uint8Array(0x110000);
  for (const [a, b] of py.assigned!) assigned.fill(1, a!, b! + 1);
  for (const [name, cls] of Object.entries(PYTHON_REGEX_CLASSES)) {
    const want = new Uint8Array(0x110000);
    for (const [a, b] of py[name]!) want.fill(1, a!, b! + 1);
    const re = new RegExp(`^${cls}$`, name === 'az' ? 'iu' : 'u');
    const wrong: string[] = [];
    for (let cp = 0; cp < 0x110000; cp++) {
      if (!assigned[cp] || (cp >= 0xd800 && cp <= 0xdfff)) continue;
      if (re.test(String.fromCodePoint(cp)) !== (want[cp] === 1)) wrong.push(cp.toString(16));
    }
    assert.deepEqual(wrong.slice(0, 10), [], `${name}: ${wrong.length} code points differ`);
  }
});

test('Unicode digits as Python \\d: full-width, Arabic-Indic and Devanagari numbers stay one token', () => {
  assert.deepEqual(tweetTokenize('１２３４５ ٣٤٥ x १२३ y ４５６-７８９０'), [
    '１２３４５',
    '٣٤٥',
    'x',
    '१२३',
    'y',
    '４５６-７８９０',
  ]);
  // as Python: the phone-number rule takes digits of any script
  assert.deepEqual(tweetTokenize('१२३ ４５６-７８９０'), ['१२३ ４５６-７８９０']);
  assert.deepEqual(tweetTokenize('call ５５５-１２３-４５６７'), ['call', '５５５-１２３-４５６７']);
});

test('the emoji sequences the two rule sets disagree on', () => {
  const family = '👨\u200d👩\u200d👧';
  assert.deepEqual(tweetTokenize(family, 'nltk-3.8'), [family]);
  assert.deepEqual(tweetTokenize(family, 'nltk-2020'), ['👨', '\u200d', '👩', '\u200d', '👧']);
  assert.deepEqual(tweetTokenize('🇵🇹 👍🏽', 'nltk-2020'), ['🇵', '🇹', '👍', '🏽']);
  assert.equal(normalizeTweet('👍🏽', { tokenizer: 'nltk-2020' }), ':thumbs_up: :medium_skin_tone:');
  assert.equal(normalizeTweet('🇵🇹 👍🏽', { tokenizer: 'nltk-3.8' }), '🇵🇹 👍🏽');
  assert.deepEqual(tweetTokenize('</3', 'nltk-2020'), ['<', '/', '3']);
  assert.deepEqual(tweetTokenize('</3', 'nltk-3.8'), ['</3']);
});

test('the light variant replaces only mentions and links; an explicit name table overrides the bundled one', () => {
  assert.equal(
    normalizeTweetLight('RT @Some_User: look https://t.co/x1 and www.a.org/b 😂  ok'),
    'RT @USER: look HTTPURL and HTTPURL 😂  ok',
  );
  assert.equal(normalizeTweetLight('mail me@example.com'), 'mail me@example.com');
  assert.equal(normalizeTweet('hi @bob', { style: 'light' }), 'hi @USER');
  const names = new Map([['😂', 'lol']]);
  assert.equal(normalizeTweet('ok 😂 🙄', { emojiNames: names }), 'ok :lol: 🙄');
  assert.equal(normalizeTweet('ok 😂 🙄'), 'ok :face_with_tears_of_joy: :face_with_rolling_eyes:');
});

test('HTML entities as NLTK unescapes them: HTML 4 names, Windows-1252 for 0x80-0x9F, the rest dropped', () => {
  assert.equal(
    unescapeHtmlEntities('a &amp; b &lt;3 &#8217; &#x263A; &#150; &eacute; &bogus; &#129; x'),
    'a & b <3 ’ ☺ – é   x',
  );
});

test('tandem normalize prints the references line by line (stdin), for both rule sets and emoji modes', () => {
  // one text per line: the few references holding line breaks cannot travel that way
  const lineSafe = cases.filter((c) => !/[\n\r]/.test(c.text));
  assert.ok(lineSafe.length > 400);
  const input = lineSafe.map((c) => c.text).join('\n') + '\n';
  for (const [flags, pick] of [
    [[], (c: (typeof cases)[0]) => c.demojize['nltk-2020']],
    [['--tweet-tokenizer', 'nltk-3.8'], (c: (typeof cases)[0]) => c.demojize['nltk-3.8']],
    [['--emoji', 'keep', '--tweet-tokenizer', 'nltk-2020'], (c: (typeof cases)[0]) => c.keep['nltk-2020']],
  ] as const) {
    const r = runCli(['normalize', ...flags, '-'], { input });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n').slice(0, -1), lineSafe.map(pick), flags.join(' '));
  }
  const one = runCli(['normalize', "I can't 😂", '@bob hi']);
  assert.equal(one.stdout, "I can't :face_with_tears_of_joy:\n@USER hi\n");
  const bad = runCli(['normalize', '--tweet-tokenizer', 'nltk-3.9', 'x']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--tweet-tokenizer nltk-3.9: expected one of nltk-2020, nltk-3.8; did you mean nltk-3.8\?/);
});
