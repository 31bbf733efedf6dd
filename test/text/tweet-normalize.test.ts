// Tweet normalisation: tokens as NLTK's TweetTokenizer gives them and BERTweet's normalizeTweet output, against
// references made with NLTK (tweet_cases.json, written by gen_tweet_cases.py); the light variant; demojize.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  normalizeTweet,
  normalizeTweetLight,
  tweetTokenize,
  unescapeHtmlEntities,
} from '../../src/text/tweet-normalize.js';
import { REPO_ROOT } from '../helpers/cli.js';

const cases = JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'text', 'tweet_cases.json'), 'utf8')) as Array<{
  text: string;
  tokens: string[];
  normalized: string;
}>;

test('tweetTokenize splits every reference tweet exactly as NLTK TweetTokenizer', () => {
  for (const c of cases) assert.deepEqual(tweetTokenize(c.text), c.tokens, c.text);
});

test('normalizeTweet (BERTweet, emoji kept) reproduces the reference normalisation', () => {
  for (const c of cases) assert.equal(normalizeTweet(c.text), c.normalized, c.text);
  assert.equal(normalizeTweet('@user check https://t.co/abc123 NOW!!!'), '@USER check HTTPURL NOW ! ! !');
});

test('the light variant replaces only mentions and links, keeping spacing and emoji', () => {
  assert.equal(
    normalizeTweetLight('RT @Some_User: look https://t.co/x1 and www.a.org/b 😂  ok'),
    'RT @USER: look HTTPURL and HTTPURL 😂  ok',
  );
  assert.equal(normalizeTweetLight('mail me@example.com'), 'mail me@example.com');
  assert.equal(normalizeTweet('hi @bob', { style: 'light' }), 'hi @USER');
});

test('demojize needs a name table and says so; with one it writes :name:', () => {
  assert.throws(() => normalizeTweet('ok 😂', { emoji: 'demojize' }), /emoji name table/);
  const names = new Map([['😂', 'face_with_tears_of_joy']]);
  assert.equal(normalizeTweet('ok 😂 🙄', { emoji: 'demojize', emojiNames: names }), 'ok :face_with_tears_of_joy: 🙄');
  assert.equal(
    normalizeTweetLight('ok 😂!', { emoji: 'demojize', emojiNames: { '😂': 'face_with_tears_of_joy' } }),
    'ok :face_with_tears_of_joy:!',
  );
});

test('HTML entities as Twitter escapes them', () => {
  assert.equal(unescapeHtmlEntities('a &amp; b &lt;3 &#8217; &#x263A; &#150;'), 'a & b <3 ’ ☺ –');
});
