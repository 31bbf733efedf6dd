// The base64 check of JSON images: the quick test from the decoded length must accept and refuse exactly what
// the round trip through Buffer (the rule it stands in for) accepts and refuses, on canonical strings and on
// every kind of near miss (whitespace, stray characters, base64url, padding in the middle, bits left over).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonPosts } from '../../src/serve/inputs.js';
import { HttpError } from '../../src/serve/errors.js';

/** The rule: what Buffer decodes, encoded again, is the string (whitespace and padding aside). */
function roundTrips(b64: string): boolean {
  const bytes = Buffer.from(b64, 'base64');
  return bytes.toString('base64').replace(/=+$/, '') === b64.replace(/\s+/g, '').replace(/=+$/, '');
}

/** What parseJsonPosts says of a post with this image: accepted, 'not base64' or 'empty image'. */
function outcome(b64: string): string {
  try {
    parseJsonPosts(Buffer.from(JSON.stringify({ text: 'x', image: b64 })), 1);
    return 'accepted';
  } catch (e) {
    assert.ok(e instanceof HttpError && e.status === 400, String(e));
    return /: (not base64|empty image)$/.exec(e.message)?.[1] ?? e.message;
  }
}
const expected = (b64: string) =>
  !roundTrips(b64) ? 'not base64' : Buffer.from(b64, 'base64').length === 0 ? 'empty image' : 'accepted';

test('the base64 check agrees with the round trip on canonical strings and near misses', () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const cases: string[] = ['=', '==', 'QQ', 'QQ=', 'QQ==', 'QR==', 'QUI', 'QUJ', 'QUJD', 'QUJD====', 'Q', 'QQ=QQ=='];
  for (let n = 1; n <= 40; n++) {
    const b64 = Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256))).toString('base64');
    const at = () => Math.floor(rnd() * b64.length);
    const put = (s: string, c: string, i = at()) => s.slice(0, i) + c + s.slice(i);
    cases.push(
      b64,
      b64.replace(/=+$/, ''),
      put(b64, ' '),
      put(b64, '\n'),
      put(b64, '!'),
      put(b64, '-'),
      put(b64, '_'),
      put(b64, '='),
      put(b64, 'A'),
      b64.slice(0, -1),
      b64.replace(/[+/]/g, (c) => (c === '+' ? '-' : '_')),
      b64 + '===',
      b64 + ' ',
    );
    // a different last character: bits beyond the last byte, or a different byte
    const end = b64.replace(/=+$/, '');
    cases.push(end.slice(0, -1) + 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef'[Math.floor(rnd() * 32)] + b64.slice(end.length));
  }
  let accepts = 0;
  for (const c of cases) {
    const got = outcome(c);
    assert.equal(got, expected(c), JSON.stringify(c));
    if (got === 'accepted') accepts++;
  }
  console.log(`${cases.length} strings, ${accepts} accepted`);
  assert.ok(accepts > 100 && cases.length - accepts > 100);
});
