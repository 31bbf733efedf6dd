// Autocast regions: matrix products run in bf16 inside and fp32 outside, nesting restores the outer state,
// errors leave the state as it was, fp16 is refused on CPU; the CPU's bf16 flags are read from cpuinfo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  autocastState,
  checkPrecision,
  cpuBf16Features,
  randn,
  tidy,
  withAutocast,
  withPrecision,
} from '../../src/tensor/index.js';

test('a matmul under CPU autocast runs in bf16, with fp32 weights, and close to fp32', () => {
  tidy(() => {
    const a = randn([64, 96]);
    const w = randn([96, 32]).requiresGrad_();
    const ref = a.matmul(w);
    const low = withAutocast('cpu', 'bfloat16', () => a.matmul(w));
    assert.equal(ref.dtype, 'float32');
    assert.equal(low.dtype, 'bfloat16');
    assert.equal(w.dtype, 'float32', 'the weight itself stays fp32');
    // bf16 keeps 8 significant bits: each product rounds inputs by at most 2^-9 relative.
    const rel = low.float().sub(ref).abs().max().item() / ref.abs().max().item();
    console.log(`bf16 matmul 64x96x32: max |diff| / max |fp32| = ${rel.toExponential(2)}`);
    assert.ok(rel < 2e-2, `relative difference ${rel}`);
    assert.ok(rel > 0, 'bf16 differs from fp32 at all (autocast took effect)');
    // Gradients reach the fp32 leaf in fp32.
    low.float().sum().backward();
    assert.equal(w.grad!.dtype, 'float32');
    // Outside the region: fp32 again.
    assert.equal(a.matmul(w).dtype, 'float32');
  });
});

test('nested regions restore the outer state; an exception inside restores it too', () => {
  assert.deepEqual(autocastState('cpu').enabled, false);
  withAutocast('cpu', 'bfloat16', () => {
    withAutocast('cpu', 'bfloat16', () => assert.equal(autocastState('cpu').enabled, true));
    assert.equal(autocastState('cpu').enabled, true, 'still on after the inner region');
  });
  assert.equal(autocastState('cpu').enabled, false);
  assert.throws(
    () =>
      withAutocast('cpu', 'bfloat16', () => {
        throw new Error('boom');
      }),
    /boom/,
  );
  assert.equal(autocastState('cpu').enabled, false, 'an exception does not leave autocast on');
  assert.throws(() => withAutocast('cpu', 'bfloat16', async () => 1), /must be synchronous/);
  assert.equal(autocastState('cpu').enabled, false);
});

test('withPrecision: fp32 is plain; fp16 is refused on CPU with a message naming the flag', () => {
  tidy(() => {
    const a = randn([4, 4]);
    assert.equal(withPrecision('fp32', 'cpu', () => a.matmul(a)).dtype, 'float32');
    assert.equal(withPrecision('bf16', 'cpu', () => a.matmul(a)).dtype, 'bfloat16');
  });
  assert.throws(() => checkPrecision('fp16', 'cpu'), /--precision fp16 needs a CUDA device/);
  assert.throws(() => checkPrecision('fp8' as never, 'cpu'), /expected one of fp32, bf16, fp16, got 'fp8'/);
  assert.throws(() => withAutocast('cpu', 'float16', () => 0), /CPU autocast in libtorch supports bfloat16 only/);
});

test('cpuBf16Features reads avx512_bf16 and amx_bf16 from the flags line', () => {
  const info = (flags: string) => `processor\t: 0\nmodel name\t: X\nflags\t\t: fpu sse2 ${flags}\n`;
  assert.deepEqual(cpuBf16Features(info('avx512f avx512_bf16 amx_tile amx_bf16')), ['avx512_bf16', 'amx_bf16']);
  assert.deepEqual(cpuBf16Features(info('avx2 avx512f')), []);
  assert.deepEqual(cpuBf16Features(''), []);
});
