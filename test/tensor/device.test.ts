// Devices: the one parser of device strings, and Tensor.device / Tensor.to using it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDevice, parseDevice, zeros, type Device, type Tensor } from '../../src/tensor/index.js';

test('isDevice accepts cpu, cuda and cuda:N only', () => {
  for (const s of ['cpu', 'cuda', 'cuda:0', 'cuda:12']) assert.equal(isDevice(s), true, s);
  for (const s of ['', 'CPU', 'gpu', 'mps', 'meta', 'cuda:', 'cuda0', 'cuda:-1', 'cuda:1.5', ' cpu', 'cpu ', 'xcpu'])
    assert.equal(isDevice(s), false, JSON.stringify(s));
});

test('parseDevice returns the device or names where the string came from', () => {
  const d: Device = parseDevice('cuda:1', 'config.json field "device"');
  assert.equal(d, 'cuda:1');
  assert.throws(
    () => parseDevice('gpu', 'config.json field "device"'),
    (e: Error) =>
      e instanceof TypeError &&
      e.message === `config.json field "device": unknown device 'gpu' (expected cpu, cuda or cuda:N)`,
  );
});

test('Tensor.device is a Device; Tensor.to refuses a string that is neither a dtype nor a device', () => {
  const t = zeros([2]);
  const d: Device = t.device;
  assert.equal(d, 'cpu');
  const moved = t.to(d);
  assert.equal(moved.device, 'cpu');
  const untypedTo = t.to.bind(t) as (target: string) => Tensor;
  assert.throws(
    () => untypedTo('mps'),
    /^TypeError: tandem\.Tensor\.to: expected a dtype \(float32, .*\) or a device \(cpu, cuda, cuda:N\), got 'mps'$/,
  );
  moved.dispose();
  t.dispose();
});
