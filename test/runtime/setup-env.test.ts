// OpenBLAS's kernels named from the CPU's flags: AVX-512 (all five subsets OpenBLAS's SkylakeX kernels use) ->
// SkylakeX, AVX2 with FMA -> Haswell, anything less -> OpenBLAS's own choice; a value the user set, even empty,
// is left alone. OpenBLAS's threads sleep at once after a product (OPENBLAS_THREAD_TIMEOUT=4) unless the user
// set the timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openblasCoretype, processSetupEnv } from '../../src/runtime/setup-env.js';

const flags = (s: string) => new Set(s.split(' '));

test('the OpenBLAS coretype follows the CPU flags', () => {
  const avx512 = 'sse4_2 avx avx2 fma avx512f avx512cd avx512bw avx512dq avx512vl avx512_bf16';
  assert.equal(openblasCoretype(flags(avx512)), 'SkylakeX');
  // one AVX-512 subset missing (e.g. a hypervisor hiding it): the AVX2 kernels
  assert.equal(openblasCoretype(flags(avx512.replace('avx512vl', ''))), 'Haswell');
  assert.equal(openblasCoretype(flags('sse4_2 avx avx2')), null, 'AVX2 without FMA');
  assert.equal(openblasCoretype(flags('sse4_2 avx')), null);
  assert.equal(openblasCoretype(new Set()), null);
});

test("a coretype the user set, even empty, is kept; otherwise this machine's is asked for", () => {
  assert.equal(processSetupEnv({ OPENBLAS_CORETYPE: '' })?.OPENBLAS_CORETYPE, undefined);
  assert.equal(processSetupEnv({ OPENBLAS_CORETYPE: 'Haswell' })?.OPENBLAS_CORETYPE, undefined);
  const here = processSetupEnv({})?.OPENBLAS_CORETYPE;
  console.log(`this machine: OPENBLAS_CORETYPE=${here ?? '(OpenBLAS decides)'}`);
  assert.ok(here === undefined || ['SkylakeX', 'Haswell'].includes(here));
});

test("OpenBLAS's threads wait passively unless the user set their timeout", () => {
  assert.equal(processSetupEnv({})?.OPENBLAS_THREAD_TIMEOUT, '4');
  assert.equal(processSetupEnv({ OPENBLAS_THREAD_TIMEOUT: '28' })?.OPENBLAS_THREAD_TIMEOUT, undefined);
});
