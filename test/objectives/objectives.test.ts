// Sampling and masking behaviour of the auxiliary objectives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ItcQueue,
  itcLoss,
  sampleItmPairs,
  combineLosses,
  balancedClassWeights,
  ITC_INIT_LOGIT_SCALE,
  ITC_MAX_LOGIT_SCALE,
} from '../../src/objectives/index.js';
import { F, manualSeed, randn, tensor, tidy } from '../../src/tensor/index.js';

test('ITM random negatives: about half, never the own text nor an identical text', () => {
  manualSeed(0);
  const keys = ['a', 'b', 'a', 'c', 'd', 'e', 'f', 'g'];
  let negatives = 0;
  let total = 0;
  for (let r = 0; r < 200; r++) {
    const s = sampleItmPairs(keys.length, { textKeys: keys });
    s.textIndex.forEach((j, i) => {
      total++;
      if (s.labels[i] === 1) assert.equal(j, i);
      else {
        negatives++;
        assert.notEqual(j, i);
        assert.notEqual(keys[j], keys[i]);
      }
    });
  }
  assert.ok(Math.abs(negatives / total - 0.5) < 0.05, `negative rate ${negatives / total}`);
});

test('ITM hard negatives follow the similarity, never the positive nor a duplicate', () => {
  manualSeed(1);
  const keys = ['x', 'y', 'x', 'z'];
  // Row i prefers text (i + 1) % 4 strongly; the positive (diagonal) has the highest score of all.
  const sim = tensor([
    [50, 10, 9, 0],
    [0, 50, 10, 0],
    [0, 0, 50, 10],
    [10, 0, 0, 50],
  ]);
  const picks = new Map<string, number>();
  for (let r = 0; r < 300; r++) {
    const s = sampleItmPairs(4, { mode: 'hard', similarity: sim, textKeys: keys, negativeRate: 1 });
    s.textIndex.forEach((j, i) => {
      assert.equal(s.labels[i], 0);
      assert.notEqual(j, i);
      assert.notEqual(keys[j], keys[i]);
      picks.set(`${i}->${j}`, (picks.get(`${i}->${j}`) ?? 0) + 1);
    });
  }
  // Row 0: texts 1 (score 10) and 3 (score 0) are allowed (2 duplicates 0's text): 1 dominates.
  assert.ok((picks.get('0->1') ?? 0) > 280);
  assert.equal(picks.get('0->2'), undefined);
  assert.throws(() => sampleItmPairs(2, { mode: 'hard' }), /needs the ITC similarity/);
});

test('ITM with a batch of one keeps the pair matched; ITC on a batch of one is finite', () => {
  const s = sampleItmPairs(1, { negativeRate: 1 });
  assert.deepEqual(s, { textIndex: [0], labels: [1] });
  tidy(() => {
    const r = itcLoss(randn([1, 8]), randn([1, 8]), tensor(ITC_INIT_LOGIT_SCALE));
    assert.ok(Math.abs(r.loss.item()) < 1e-6); // one candidate: log-softmax of itself is 0
  });
});

test('ITC masks duplicate texts and images as false negatives', () => {
  tidy(() => {
    manualSeed(2);
    const t = randn([4, 6]);
    const v = randn([4, 6]);
    const s = tensor(1.0);
    const plain = itcLoss(t, v, s);
    const masked = itcLoss(t, v, s, { textKeys: ['a', 'b', 'a', 'c'] });
    const lp = masked.logitsPerText.toArray();
    assert.equal(lp[0 * 4 + 2], -1e4);
    assert.equal(lp[2 * 4 + 0], -1e4);
    assert.notEqual(lp[0 * 4 + 1], -1e4);
    assert.ok(masked.loss.item() < plain.loss.item());
  });
});

test('ITC masks duplicate images: the rows and columns of both logit matrices, and the loss is the masked one', () => {
  tidy(() => {
    manualSeed(3);
    const t = randn([4, 6]);
    const v = randn([4, 6]);
    const s = tensor(0.7);
    const keys = ['x', 'y', 'z', 'x']; // posts 0 and 3 share their image
    const r = itcLoss(t, v, s, { imageKeys: keys });
    const plain = itcLoss(t, v, s);
    const lt = r.logitsPerText.toArray();
    const li = r.logitsPerImage.toArray();
    for (const [i, j] of [
      [0, 3],
      [3, 0],
    ]) {
      assert.equal(lt[i! * 4 + j!], -1e4, `logitsPerText[${i}][${j}]`);
      assert.equal(li[i! * 4 + j!], -1e4, `logitsPerImage[${i}][${j}]`);
    }
    const pt = plain.logitsPerText.toArray();
    const pi = plain.logitsPerImage.toArray();
    for (let k = 0; k < 16; k++)
      if (k !== 3 && k !== 12) {
        assert.equal(lt[k], pt[k]);
        assert.equal(li[k], pi[k]);
      }
    // The loss by hand: each row's cross-entropy over the entries left after masking, both directions averaged.
    const ce = (l: number[], row: number, skip: number | null) => {
      const xs = [0, 1, 2, 3].filter((j) => j !== skip).map((j) => l[row * 4 + j]!);
      const m = Math.max(...xs);
      return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0)) - l[row * 5]!;
    };
    const skipOf = (row: number) => (row === 0 ? 3 : row === 3 ? 0 : null);
    let want = 0;
    for (let row = 0; row < 4; row++) want += (ce(pt, row, skipOf(row)) + ce(pi, row, skipOf(row))) / 8;
    assert.ok(Math.abs(r.loss.item() - want) < 1e-5, `masked loss ${r.loss.item()} vs ${want}`);
    assert.ok(Math.abs(plain.loss.item() - want) > 1e-3, 'the duplicate changes the loss');
  });
});

test('ITC clamps the logit scale at ln 100 (CLIP): logits are 100 · cosine and the scale gets no gradient', () => {
  tidy(() => {
    manualSeed(4);
    const t = randn([3, 5]);
    const v = randn([3, 5]);
    const cos = F.normalize(t, { dim: -1 }).matmul(F.normalize(v, { dim: -1 }).transpose(0, 1));
    const high = tensor(6).requiresGrad_();
    const r = itcLoss(t, v, high);
    const d = r.logitsPerText.sub(cos.mul(100)).abs().max().item();
    assert.ok(d < 1e-4, `logits are not 100 · cos (max diff ${d})`);
    r.loss.backward();
    assert.equal(high.grad!.item(), 0);
    assert.ok(Math.abs(ITC_MAX_LOGIT_SCALE - Math.log(100)) < 1e-15);
    // Below the bound, exp(t) itself, with a gradient; clampScale: false lifts the bound.
    const low = tensor(4).requiresGrad_();
    const r2 = itcLoss(t, v, low);
    assert.ok(
      r2.logitsPerText
        .sub(cos.mul(Math.exp(4)))
        .abs()
        .max()
        .item() < 1e-4,
    );
    r2.loss.backward();
    assert.notEqual(low.grad!.item(), 0);
    const free = itcLoss(t, v, tensor(6), { clampScale: false });
    assert.ok(
      free.logitsPerText
        .sub(cos.mul(Math.exp(6)))
        .abs()
        .max()
        .item() < 1e-3,
    );
  });
});

test('ITC queue adds detached negatives and keeps the newest `size` rows', () => {
  tidy(() => {
    const q = new ItcQueue(5);
    assert.equal(q.current, null);
    const t1 = randn([3, 4]).requiresGrad_();
    const r1 = itcLoss(t1, randn([3, 4]), tensor(0.5));
    q.push(r1.textNorm, r1.imageNorm);
    assert.deepEqual(q.text!.shape, [3, 4]);
    const r2 = itcLoss(randn([3, 4]), randn([3, 4]), tensor(0.5), { queue: q.current });
    assert.deepEqual(r2.logitsPerText.shape, [3, 6]);
    q.push(r2.textNorm, r2.imageNorm);
    assert.deepEqual(q.text!.shape, [5, 4]);
    assert.equal(q.text!.requiresGrad, false);
    assert.deepEqual(
      q.text!.slice(0, 0, 3).toArray(),
      r2.textNorm.toArray().map((x) => Math.fround(x)),
    );
    q.clear();
  });
});

test('loss weighting: convex as the paper, one auxiliary task, free weights', () => {
  tidy(() => {
    const [ce, itc, itm] = [tensor(1), tensor(2), tensor(3)];
    assert.ok(Math.abs(combineLosses({ ce, itc, itm }).item() - (0.8 + 0.2 + 0.3)) < 1e-6);
    assert.ok(Math.abs(combineLosses({ ce, itc }, { itc: 0.1, itm: 0.1, mode: 'convex' }).item() - (0.9 + 0.2)) < 1e-6);
    assert.ok(
      Math.abs(combineLosses({ ce, itc, itm }, { itc: 0.5, itm: 2, mode: 'free' }).item() - (1 + 1 + 6)) < 1e-6,
    );
    assert.throws(() => combineLosses({ ce, itc, itm }, { itc: 0.5, itm: 0.5, mode: 'convex' }), /itc \+ itm < 1/);
  });
  assert.deepEqual(balancedClassWeights([0, 0, 0, 1], 3), [4 / 9, 4 / 3, 0]);
  assert.throws(() => balancedClassWeights([0, 3], 3), /label 3 at 1/);
});
