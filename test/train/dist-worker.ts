// One rank of the collective tests in data-parallel.test.ts (started twice with RANK / WORLD_SIZE set):
// prints, as JSON, the results of all-reduce, all-gather, broadcast and of the ITC loss over the gathered
// global batch with the gradients of this rank's rows.
import { ProcessGroup, processGroupFromEnv } from '../../src/tensor/distributed.js';
import { DataParallel } from '../../src/train/data-parallel.js';
import { itcLoss } from '../../src/objectives/index.js';
import { tensor } from '../../src/tensor/index.js';
import { ITC_BATCH, itcInputs } from './dist-cases.js';

const group = processGroupFromEnv();
if (!group) throw new Error('dist-worker: run under RANK / WORLD_SIZE');
const dp = new DataParallel(ProcessGroup.init(group));
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
process.stdout.write(
  JSON.stringify({
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
