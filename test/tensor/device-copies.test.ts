// Batches reach the device through fromBuffer: on a GPU staged in pinned host memory and copied without
// blocking (native/addon.cc). What must hold: the caller's buffer can be reused as soon as the call returns,
// and a pinned block is not handed to the next batch while its copy is still in flight. On TANDEM_TEST_DEVICE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromBuffer, tidy, type Tensor } from '../../src/tensor/index.js';
import { TEST_DEVICE } from '../helpers/device.js';

const N = 1 << 20; // 4 MB per copy: long enough to be in flight while the next ones are queued

test(`fromBuffer to ${TEST_DEVICE}: 64 copies in a row from one reused buffer each keep their own values`, () => {
  const buf = new Float32Array(N);
  const copies: Tensor[] = [];
  for (let i = 0; i < 64; i++) {
    buf.fill(i + 1);
    buf[i] = -1; // one marked element per copy
    copies.push(fromBuffer(buf, 'float32', [N], TEST_DEVICE));
  }
  buf.fill(0); // a copy that still read the caller's buffer would now see zeros
  const wrong: string[] = [];
  copies.forEach((t, i) => {
    assert.ok(t.device.startsWith(TEST_DEVICE.split(':')[0]!), `copy ${i} is on ${t.device}`);
    const [sum, at] = tidy(() => [t.to('float64').sum().item(), t.select(0, i).item()]);
    const want = (N - 1) * (i + 1) - 1;
    if (sum !== want || at !== -1) wrong.push(`copy ${i}: sum ${sum} (want ${want}), element ${i} = ${at}`);
    t.dispose();
  });
  assert.deepEqual(wrong, []);
});
