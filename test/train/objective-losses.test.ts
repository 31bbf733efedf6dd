// objectiveLosses, the loss of one training batch: the combination (convex or free weights, one or no
// auxiliary task), ITC as CLIP's symmetric loss over the batch, ITM as cross-entropy on the sampled pairs,
// and which parameters each objective reaches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arange, F, manualSeed, tensor, tidy } from '../../src/tensor/index.js';
import { sampleItmPairs } from '../../src/objectives/index.js';
import { objectiveLosses } from '../../src/train/trainer.js';
import { batchOf, options, tinyModel } from './fake-source.js';

const model = tinyModel();
model.eval();
const batch = batchOf([0, 1, 2, 3]);
const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) < 1e-6 * (1 + Math.abs(b)), `${what}: ${a} vs ${b}`);

test('the total is the convex or free combination of the losses present', () => {
  const cases = [
    { aux: { itc: true, itm: true }, mode: 'convex', want: (l: L) => 0.7 * l.ce + 0.2 * l.itc! + 0.1 * l.itm! },
    { aux: { itc: true, itm: true }, mode: 'free', want: (l: L) => l.ce + 0.2 * l.itc! + 0.1 * l.itm! },
    // One auxiliary task: (1 - a)·CE + a·AUX; the absent one takes no share.
    { aux: { itc: true, itm: false }, mode: 'convex', want: (l: L) => 0.8 * l.ce + 0.2 * l.itc! },
    { aux: { itc: false, itm: true }, mode: 'convex', want: (l: L) => 0.9 * l.ce + 0.1 * l.itm! },
    { aux: { itc: false, itm: false }, mode: 'convex', want: (l: L) => l.ce },
  ] as const;
  type L = { ce: number; itc: number | null; itm: number | null; total: number };
  for (const c of cases) {
    const l = tidy(() => {
      const r = objectiveLosses(
        model,
        batch,
        options('', { aux: c.aux, weights: { itc: 0.2, itm: 0.1, mode: c.mode } }),
      );
      return { ce: r.ce.item(), itc: r.itc?.item() ?? null, itm: r.itm?.item() ?? null, total: r.total.item() };
    });
    assert.equal(l.itc === null, !c.aux.itc, 'ITC present exactly when on');
    assert.equal(l.itm === null, !c.aux.itm, 'ITM present exactly when on');
    close(l.total, c.want(l), `${JSON.stringify(c.aux)} ${c.mode}`);
  }
  assert.throws(
    () =>
      tidy(() =>
        objectiveLosses(
          model,
          batch,
          options('', { aux: { itc: true, itm: true }, weights: { itc: 0.6, itm: 0.4, mode: 'convex' } }),
        ),
      ),
    /itc \+ itm < 1/,
  );
});

test('CE, ITC and ITM equal their definitions on the batch', () => {
  manualSeed(7);
  const sample = sampleItmPairs(4, { mode: 'random', textKeys: batch.textKeys });
  assert.ok(sample.labels.includes(0) && sample.labels.includes(1), 'seed 7 draws matched and swapped pairs');
  const want = tidy(() => {
    const e = model.encode(batch);
    const ce = F.crossEntropy(model.classify(e.pair), batch.labels!);
    const logits = F.normalize(e.textEmbeds, { dim: -1 })
      .matmul(F.normalize(e.imageEmbeds, { dim: -1 }).T)
      .mul(model.logitScale.exp());
    const itc = F.crossEntropy(logits, arange(0, 4))
      .add(F.crossEntropy(logits.T, arange(0, 4)))
      .div(2);
    const pairs = model.encodeMismatched(batch, e, sample.textIndex);
    const itm = F.crossEntropy(model.matchLogits(pairs), tensor(BigInt64Array.from(sample.labels.map(BigInt))));
    return { ce: ce.item(), itc: itc.item(), itm: itm.item() };
  });
  // The same seed gives objectiveLosses the same ITM draw (encoding in eval mode takes no random numbers).
  manualSeed(7);
  const got = tidy(() => {
    const r = objectiveLosses(model, batch, options('', { aux: { itc: true, itm: true } }));
    return { ce: r.ce.item(), itc: r.itc!.item(), itm: r.itm!.item() };
  });
  console.log(`ce ${got.ce} itc ${got.itc} itm ${got.itm}`);
  close(got.ce, want.ce, 'CE');
  close(got.itc, want.itc, 'ITC');
  close(got.itm, want.itm, 'ITM');
});

test('only ITC reaches the logit scale, only ITM the match head', () => {
  const gradOf = (aux: { itc: boolean; itm: boolean }) => {
    for (const p of model.parameters()) p.zeroGrad();
    tidy(() => objectiveLosses(model, batch, options('', { aux })).total.backward());
    const named = new Map(model.namedParameters());
    const norm = (name: string) =>
      tidy(() => {
        const g = named.get(name)!.grad;
        return g ? g.norm().item() : 0;
      });
    const match = [...named.keys()].filter((n) => n.startsWith('itm_head.'));
    assert.ok(match.length > 0, `match head parameters (have ${[...named.keys()].slice(-8).join(', ')})`);
    return { scale: norm('logit_scale'), match: Math.max(...match.map(norm)) };
  };
  manualSeed(1);
  const none = gradOf({ itc: false, itm: false });
  const itc = gradOf({ itc: true, itm: false });
  const itm = gradOf({ itc: false, itm: true });
  for (const p of model.parameters()) p.zeroGrad();
  assert.equal(none.scale, 0);
  assert.equal(none.match, 0);
  assert.ok(itc.scale > 0 && itc.match === 0, JSON.stringify(itc));
  assert.ok(itm.match > 0 && itm.scale === 0, JSON.stringify(itm));
});
