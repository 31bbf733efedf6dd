// One rank of the collective tests in data-parallel.test.ts (started twice with RANK / WORLD_SIZE set):
// prints, as JSON, the results of all-reduce, all-gather, broadcast, of the ITC loss over the gathered
// global batch with the gradients of this rank's rows, and of the gradient reducer.
import { ProcessGroup, processGroupFromEnv } from '../../src/tensor/distributed.js';
import { DataParallel } from '../../src/train/data-parallel.js';
import { itcLoss } from '../../src/objectives/index.js';
import { tensor, tidy, zeros } from '../../src/tensor/index.js';
import { ITC_BATCH, itcInputs } from './dist-cases.js';

const group = processGroupFromEnv();
if (!group) throw new Error('dist-worker: run under RANK / WORLD_SIZE');
const dp = new DataParallel(ProcessGroup.init(group), 64); // 64-byte buckets: one per reducer parameter below
const r = dp.rank;

const summed = tensor([r + 1, 2 * (r + 1)], { dtype: 'float32' });
dp.pg.allReduce(summed);
const gathered = dp.pg.allGather(tensor([r, 10 + r, 100 + r], { dtype: 'float64' }));
const bcast = tensor([r === 0 ? 7 : -1, r === 0 ? 8 : -1], { dtype: 'float32' });
dp.pg.broadcast(bcast, 0);

// ITC: rank 0 holds rows [0, 4) of the global batch, rank 1 rows [4, 6) (uneven parts are padded)
const { text, image, scale, textKeys, imageKeys } = itcInputs();
const [lo, hi] = r === 0 ? [0, 4] : [4, ITC_BATCH];
const t = text
  .narrow(0, lo, hi - lo)
  .detach()
  .requiresGrad_();
const v = image
  .narrow(0, lo, hi - lo)
  .detach()
  .requiresGrad_();
const res = itcLoss(t, v, scale, {
  textKeys: textKeys.slice(lo, hi),
  imageKeys: imageKeys.slice(lo, hi),
  gather: dp,
});
res.loss.backward();
// The reducer (gradients averaged while backward runs): 4 parameters of 16 floats, buckets of 64 bytes (one
// parameter each), the last parameter unused; two steps (the first finds which parameters are used), each of
// two accumulated backwards with the reducer armed for the second. Parameter i's gradient on this rank:
// sum over the micro-batches m of (rank + 1)(step + 1)(m + 1)(i + 1).
const ps = [0, 1, 2, 3].map(() => zeros([16]).requiresGrad_());
const reducer: { early: number; grads: (number[] | null)[] }[] = [];
for (const step of [0, 1]) {
  for (const micro of [0, 1]) {
    if (micro === 1) dp.beforeBackward(ps);
    tidy(() =>
      ps
        .slice(0, 3)
        .map((p, i) => p.mul((r + 1) * (step + 1) * (micro + 1) * (i + 1)).sum())
        .reduce((a, b) => a.add(b))
        .backward(),
    );
  }
  const early = dp.afterBackward();
  reducer.push({ early, grads: ps.map((p) => (p.grad ? Array.from(p.grad.toArray(), Number) : null)) });
  ps.forEach((p) => p.zeroGrad());
}

process.stdout.write(
  JSON.stringify({
    reducer,
    rank: r,
    summed: summed.toArray(),
    gathered: gathered.toArray(),
    gatheredShape: gathered.shape,
    broadcast: bcast.toArray(),
    offset: res.offset,
    loss: res.loss.item(),
    textGrad: t.grad!.toArray(),
    imageGrad: v.grad!.toArray(),
  }) + '\n',
);
dp.pg.barrier();
dp.pg.destroy();
