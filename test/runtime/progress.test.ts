// The one progress display: redraw throttling on a terminal, line throttling in a log, the final line always.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CountProgress, formatBytes, formatSeconds, ProgressBar } from '../../src/runtime/progress.js';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; out: string[] } {
  const out: string[] = [];
  return { stream: { isTTY, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream, out };
}

test('terminal: redrawn in place, at most every 100 ms, the final update ends the line', () => {
  const { stream, out } = fakeStream(true);
  const bar = new ProgressBar({ stream });
  bar.update(() => 'a');
  bar.update(() => 'b'); // within 100 ms: skipped
  bar.break();
  bar.break(); // nothing open any more
  bar.update(() => 'c', true);
  assert.deepEqual(out, ['\ra\x1b[K', '\n', '\rc\x1b[K\n']);
});

test('log: whole lines, at most one per logEveryMs, the final one always; disabled draws nothing', () => {
  const { stream, out } = fakeStream(false);
  const bar = new ProgressBar({ stream });
  bar.update(() => 'a');
  bar.update(() => 'b');
  bar.break();
  bar.log('note');
  bar.update(() => 'c', true);
  assert.deepEqual(out, ['a\n', 'note\n', 'c\n']);
  const off = fakeStream(true);
  const silent = new ProgressBar({ stream: off.stream, enabled: false });
  silent.update(() => 'x', true);
  silent.log('y');
  assert.deepEqual(off.out, []);
});

test('bar cells and units', () => {
  assert.equal(ProgressBar.bar(0.5, 8), '####....');
  assert.equal(ProgressBar.bar(2, 4), '####');
  assert.equal(ProgressBar.bar(NaN, 4), '....');
  assert.deepEqual(
    [formatSeconds(9.4), formatSeconds(75), formatSeconds(119.6), formatSeconds(Infinity)],
    ['9s', '1m15s', '2m00s', '?'],
  );
  assert.deepEqual([formatBytes(885), formatBytes(5e6), formatBytes(1.25e9)], ['885 B', '5.0 MB', '1.25 GB']);
});

test('CountProgress: a bar with count, rate and eta on a terminal, erased at the end; nothing in a log or when off', () => {
  const tty = fakeStream(true);
  const p = new CountProgress('evaluating dev', 8, { stream: tty.stream });
  assert.equal(p.shown, true);
  p.update(4);
  p.update(5); // within 100 ms of the last draw: not drawn
  p.end();
  assert.equal(tty.out.length, 2, tty.out.join('|'));
  const ERASE = '\x1b[K';
  assert.ok(tty.out[0]!.endsWith(ERASE), 'the rest of the line erased');
  assert.match(tty.out[0]!.slice(0, -ERASE.length), /^\revaluating dev #{12}\.{12} 4\/8 posts [\d.]+\/s eta \S+$/);
  assert.equal(tty.out[1], '\r\x1b[K');

  const unknown = fakeStream(true);
  const r = new CountProgress('reading', undefined, { stream: unknown.stream, unit: 'images' });
  r.update(120);
  assert.match(unknown.out[0]!.slice(0, -ERASE.length), /^\rreading 120 images \d+s$/);

  for (const [stream, enabled] of [
    [fakeStream(false), true],
    [fakeStream(true), false],
  ] as const) {
    const q = new CountProgress('x', 3, { stream: stream.stream, enabled });
    q.update(1);
    q.update(3, 3);
    q.end();
    assert.equal(q.shown, false);
    assert.deepEqual(stream.out, []);
  }
});
