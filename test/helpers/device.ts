// The device the parity tests run on: TANDEM_TEST_DEVICE=cuda (or cuda:N) runs the model, loss and AdamW
// parity tests on a GPU (scripts/device-check.sh); default cpu.
import type { Device, Tensor } from '../../src/tensor/index.js';

export const TEST_DEVICE = (process.env.TANDEM_TEST_DEVICE ?? 'cpu') as Device;
if (!/^(cpu|cuda(:\d+)?)$/.test(TEST_DEVICE))
  throw new Error(`TANDEM_TEST_DEVICE must be cpu, cuda or cuda:N, got '${TEST_DEVICE}'`);

/** t on the test device (t itself on cpu). */
export function onTestDevice(t: Tensor): Tensor {
  return TEST_DEVICE === 'cpu' ? t : t.to(TEST_DEVICE);
}
