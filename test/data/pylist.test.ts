import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePyList } from '../../src/data/pylist.js';

test("reads MSD's list literals: both quote styles, escapes, 3 and 4 elements", () => {
  assert.deepEqual(parsePyList("['682716753374351360', 'so <user> i \\'m fine # yay', 1]"), [
    '682716753374351360',
    "so <user> i 'm fine # yay",
    1,
  ]);
  assert.deepEqual(parsePyList(`['854678856724340736', "it 's \\"great\\" \\u00e9\\n", 0, 1]`), [
    '854678856724340736',
    'it \'s "great" é\n',
    0,
    1,
  ]);
  assert.deepEqual(parsePyList('[1.5, -2, True, False, None, ]'), [1.5, -2, true, false, null]);
  assert.deepEqual(parsePyList('[]'), []);
  assert.deepEqual(parsePyList("[682716753374351360, 'unquoted id', 1]"), ['682716753374351360', 'unquoted id', 1]);
});

test('refuses what is not a plain list literal, naming the column', () => {
  assert.throws(() => parsePyList("['a', 'b'"), /expected ',' or '\]' at column 10/);
  assert.throws(() => parsePyList("['unterminated]"), /string is never closed/);
  assert.throws(() => parsePyList("['a'] + ['b']"), /unexpected text after the list at column 7/);
  assert.throws(() => parsePyList("[__import__('os')]"), /expected a string, number/);
});
