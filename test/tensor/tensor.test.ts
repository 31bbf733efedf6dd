// Tensor basics: every dtype in and out, views and indexing, broadcasting, reductions, autograd plumbing,
// random seeding, and errors that name the op and shapes without crashing the process.
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../helpers/cli.js';
import assert from 'node:assert/strict';
import {
  DTYPES,
  tensor,
  fromBuffer,
  zeros,
  ones,
  full,
  arange,
  eye,
  rand,
  randn,
  randint,
  randperm,
  multinomial,
  cat,
  stack,
  manualSeed,
  getRngState,
  setRngState,
  noGrad,
  isGradEnabled,
  grad,
  tidy,
  cudaAvailable,
  F,
  physicalCores,
} from '../../src/tensor/index.js';

test('every dtype round-trips through a buffer', () => {
  for (const d of DTYPES) {
    const t = tensor([1, 0, 3, 4], { dtype: d, shape: [2, 2] });
    assert.equal(t.dtype, d);
    assert.deepEqual(t.shape, [2, 2]);
    assert.deepEqual(t.toArray(), d === 'bool' ? [1, 0, 1, 1] : [1, 0, 3, 4]);
    const back = fromBuffer(t.bytes(), d, [2, 2]);
    assert.deepEqual(back.toArray(), t.toArray());
  }
});

test('typed arrays keep their type; dataView shares memory and data() copies', () => {
  const t = tensor(new Float64Array([1.5, 2.5]));
  assert.equal(t.dtype, 'float64');
  const i = tensor(new BigInt64Array([5n, -7n]));
  assert.equal(i.dtype, 'int64');
  assert.deepEqual([...(i.data() as BigInt64Array)], [5n, -7n]);
  const view = t.dataView<'float64'>();
  const copy = t.data<'float64'>();
  t.fill_(9);
  assert.deepEqual([...view], [9, 9]);
  assert.deepEqual([...copy], [1.5, 2.5]);
  assert.deepEqual(tensor(new Int32Array([1, 2]), { dtype: 'float32' }).toArray(), [1, 2]);
  assert.throws(() => fromBuffer(Buffer.alloc(10), 'float32', [3]), /10 bytes cannot hold float32\[3\]/);
});

test('creation functions', () => {
  assert.deepEqual(zeros([2, 2]).toArray(), [0, 0, 0, 0]);
  assert.deepEqual(ones([3], { dtype: 'int32' }).toArray(), [1, 1, 1]);
  assert.deepEqual(full([2], 7.5).toArray(), [7.5, 7.5]);
  assert.equal(arange(5).dtype, 'int64');
  assert.deepEqual(arange(1, 2, 0.25).toArray(), [1, 1.25, 1.5, 1.75]);
  assert.deepEqual(eye(2).toArray(), [1, 0, 0, 1]);
  assert.deepEqual(tensor([[true, false]]).shape, [1, 2]);
  assert.throws(() => tensor([[1, 2], [3]]), /ragged/);
});

test('seeded random numbers repeat, and the generator state saves and restores', () => {
  manualSeed(42);
  const a = rand([5]).toArray();
  const b = randn([3]).toArray();
  manualSeed(42);
  assert.deepEqual(rand([5]).toArray(), a);
  assert.deepEqual(randn([3]).toArray(), b);
  const state = getRngState();
  const x = randint(0, 10, [6]).toArray();
  setRngState(state);
  assert.deepEqual(randint(0, 10, [6]).toArray(), x);
  assert.ok(x.every((v) => v >= 0 && v < 10 && Number.isInteger(v)));
  assert.deepEqual(randperm(6).toArray().sort(), [0, 1, 2, 3, 4, 5]);
  const m = multinomial(
    tensor([
      [0, 0, 1],
      [1, 0, 0],
    ]),
    1,
  ).toArray();
  assert.deepEqual(m, [2, 0]);
});

test('views, slicing and indexing', () => {
  const x = arange(12).reshape(3, 4);
  assert.deepEqual(x.slice(1, 1, 3).toArray(), [1, 2, 5, 6, 9, 10]);
  assert.deepEqual(x.slice(0, -1).toArray(), [8, 9, 10, 11]);
  assert.deepEqual(x.select(0, 1).toArray(), [4, 5, 6, 7]);
  assert.deepEqual(x.T.contiguous().toArray().slice(0, 3), [0, 4, 8]);
  assert.deepEqual(x.permute(1, 0).shape, [4, 3]);
  assert.deepEqual(x.indexSelect(1, tensor([3n, 0n])).toArray(), [3, 0, 7, 4, 11, 8]);
  assert.deepEqual(x.gather(1, tensor([[0n], [1n], [2n]])).toArray(), [0, 5, 10]);
  assert.deepEqual(x.index([tensor([2n, 0n]), tensor([1n, 3n])]).toArray(), [9, 3]);
  assert.deepEqual(x.maskedFill(x.gt(9), -1).toArray().slice(8), [8, 9, -1, -1]);
  assert.deepEqual(x.maskedSelect(x.lt(2)).toArray(), [0, 1]);
  assert.deepEqual(cat([x.slice(0, 0, 1), x.slice(0, 2)], 0).shape, [2, 4]);
  assert.deepEqual(stack([x, x], 1).shape, [3, 2, 4]);
  assert.deepEqual(
    x.split(3, 1).map((t) => t.shape),
    [
      [3, 3],
      [3, 1],
    ],
  );
  assert.deepEqual(
    x.chunk(2, 0).map((t) => t.shape),
    [
      [2, 4],
      [1, 4],
    ],
  );
  assert.deepEqual(x.expand(2, 3, 4).shape, [2, 3, 4]);
  assert.equal(x.view(-1).size(0), 12);
  assert.equal(x.size(-1), 4);
  assert.throws(() => x.size(2), /dim 2 out of range/);
});

test('broadcasting arithmetic, comparisons, where, clamp, reductions', () => {
  const a = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  const b = tensor([10, 20, 30]);
  assert.deepEqual(a.add(b).toArray(), [11, 22, 33, 14, 25, 36]);
  assert.deepEqual(a.mul(2).sub(1).toArray(), [1, 3, 5, 7, 9, 11]);
  assert.deepEqual(a.ge(3).toArray(), [0, 0, 1, 1, 1, 1]);
  assert.deepEqual(a.where(a.gt(2), 0).toArray(), [0, 0, 3, 4, 5, 6]);
  assert.deepEqual(a.clamp(2, 5).toArray(), [2, 2, 3, 4, 5, 5]);
  assert.equal(a.sum().item(), 21);
  assert.deepEqual(a.sum(0).toArray(), [5, 7, 9]);
  assert.deepEqual(a.mean(1, true).shape, [2, 1]);
  assert.equal(a.max().item(), 6);
  assert.deepEqual(a.maxDim(1).indices.toArray(), [2, 2]);
  assert.deepEqual(a.argmax(0).toArray(), [1, 1, 1]);
  assert.equal(a.min().item(), 1);
  assert.ok(Math.abs(a.logsumexp(1).toArray()[0]! - Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3))) < 1e-6);
  assert.ok(Math.abs(a.var(1).toArray()[0]! - 1) < 1e-6);
  assert.ok(Math.abs(a.std(1, { correction: 0 }).toArray()[0]! - Math.sqrt(2 / 3)) < 1e-6);
  assert.deepEqual(a.matmul(b.view(3, 1)).toArray(), [140, 320]);
});

test('autograd: backward with a gradient, retain graph, grad, zeroGrad, detach, noGrad, autograd.grad', () => {
  const x = tensor([1, 2, 3]).requiresGrad_();
  const y = x.mul(x);
  y.backward(tensor([1, 1, 1]), { retainGraph: true });
  assert.deepEqual(x.grad!.toArray(), [2, 4, 6]);
  y.backward(tensor([1, 0, 0]));
  assert.deepEqual(x.grad!.toArray(), [4, 4, 6]); // accumulated
  x.zeroGrad();
  assert.equal(x.grad, null);
  assert.equal(x.detach().requiresGrad, false);
  assert.throws(() => y.backward(tensor([1, 1, 1])), /backward through the graph a second time|freed/);
  const z = noGrad(() => {
    assert.equal(isGradEnabled(), false);
    return x.mul(2);
  });
  assert.equal(isGradEnabled(), true);
  assert.equal(z.requiresGrad, false);
  const [g] = grad([x.pow(3).sum()], [x]);
  assert.deepEqual(g!.toArray(), [3, 12, 27]);
  assert.equal(x.grad, null); // autograd.grad does not accumulate
});

test('tidy frees intermediates and keeps returned tensors; dispose and using release at once', () => {
  let inner: ReturnType<typeof zeros> | undefined;
  const kept = tidy(() => {
    inner = zeros([3]);
    return { a: inner.add(1), list: [ones([1])] };
  });
  assert.equal(inner!.disposed, true);
  assert.equal(kept.a.disposed, false);
  assert.equal(kept.list[0]!.disposed, false);
  assert.throws(() => inner!.add(1), /disposed/);
  {
    using t = zeros([2]);
    assert.equal(t.disposed, false);
    inner = t;
  }
  assert.equal(inner.disposed, true);
  assert.throws(() => tidy(() => Promise.resolve(1) as never), /synchronous/);
});

test('bad input throws errors naming the op and shapes; the process survives', () => {
  const a = zeros([2, 3]);
  assert.throws(
    () => a.matmul(zeros([4, 5])),
    /tandem\.matmul\(float32\[2,3\], float32\[4,5\]\).*cannot be multiplied/,
  );
  assert.throws(() => a.add(zeros([4, 5])), /tandem\.add\(float32\[2,3\], float32\[4,5\]\)/);
  assert.throws(() => a.view(7), /tandem\.view/);
  assert.throws(() => a.indexSelect(0, tensor([1.5])), /tandem\.index_select.*float32/);
  assert.throws(() => F.crossEntropy(zeros([2, 3]), tensor([0n, 5n])), /tandem\.cross_entropy.*out of bounds|Target 5/);
  assert.throws(() => F.layerNorm(zeros([2, 3]), [4]), /tandem\.layer_norm/);
  assert.throws(
    () =>
      zeros([2, 2]).add(
        zeros([2, 2], { dtype: 'float64' })
          .to('int64')
          .to('bool')
          .logicalNot()
          .to('float32')
          .matmul(zeros([3, 3])),
      ),
    /tandem\.matmul/,
  );
  if (!cudaAvailable()) assert.throws(() => zeros([1], { device: 'cuda' }), /no CUDA or no GPU/);
  assert.throws(
    () => F.interpolate(zeros([1, 1, 2, 2]), { size: [3, 3], mode: 'nearest', alignCorners: true }),
    /align_corners applies/,
  );
  assert.deepEqual(a.add(1).toArray(), [1, 1, 1, 1, 1, 1]);
});

test('threads default to the physical core count (lscpu); TANDEM_NUM_THREADS overrides; bad values are ignored', () => {
  // Fresh processes (the setting is made when the engine loads), each with its own environment.
  const threads = (value: string | undefined): number => {
    const env = { ...process.env };
    delete env.TANDEM_NUM_THREADS;
    if (value !== undefined) env.TANDEM_NUM_THREADS = value;
    const entry = pathToFileURL(join(REPO_ROOT, 'dist', 'src', 'tensor', 'index.js')).href;
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', `import { getNumThreads } from '${entry}'; console.log(getNumThreads());`],
      { env, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    return Number(r.stdout.trim());
  };
  // The expected count from lscpu (unique core, socket pairs), independent of physicalCores()'s own parsing.
  const l = spawnSync('lscpu', ['-p=CORE,SOCKET'], { encoding: 'utf8' });
  const cores =
    l.status === 0 ? new Set(l.stdout.split('\n').filter((x) => x && !x.startsWith('#'))).size : availableParallelism();
  assert.equal(physicalCores(), cores);
  assert.equal(threads(undefined), cores);
  assert.equal(threads('3'), 3);
  assert.equal(threads('0'), cores);
  assert.equal(threads('many'), cores);
});

test('numbers promote as Python scalars: int64 + 1 stays int64, + 0.5 becomes float', () => {
  const i = tensor([1n, 2n]);
  assert.equal(i.add(1).dtype, 'int64');
  assert.equal(i.mul(3).dtype, 'int64');
  assert.equal(i.maskedFill(i.eq(1), 7).dtype, 'int64');
  assert.deepEqual(i.rsub(5).toArray(), [4, 3]);
  assert.equal(i.add(0.5).dtype, 'float32');
  assert.equal(tensor([1, 2]).add(1).dtype, 'float32');
  assert.equal(tensor([1, 2], { dtype: 'float64' }).mul(2).dtype, 'float64');
});
