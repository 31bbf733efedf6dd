// The text-only recipe (src/multimodal/recipes/text-only.ts), added as one file: the registry finds it, it
// builds from a text checkpoint alone, classifies on the first-token state, trains with CE alone, round-trips
// through a run checkpoint, and asking it for ITC or ITM is refused before any data is read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RECIPES, buildClassifier, loadClassifier, saveClassifier } from '../../src/multimodal/builder.js';
import { recipeNamed } from '../../src/multimodal/registry.js';
import { checkObjectives } from '../../src/train/experiment.js';
import { objectiveLosses } from '../../src/train/trainer.js';
import { noGrad, tensor, tidy } from '../../src/tensor/index.js';
import { dir, goldenBatch, goldenInputs } from './batch.js';

const SPEC = { recipe: 'text-only', textModel: dir('bert'), numLabels: 3, labelNames: ['a', 'b', 'c'] };

test('the registry finds text-only from its file, with its checkpoints and options', () => {
  assert.ok(RECIPES.includes('text-only'));
  const r = recipeNamed('text-only');
  assert.deepEqual(r.modalities, ['text']);
  assert.deepEqual(r.checkpoints, { textModel: 'required' });
  assert.deepEqual(
    r.options.map((o) => o.key),
    ['representation'],
  );
  assert.throws(
    () => buildClassifier({ ...SPEC, imageModel: dir('vit') }, { init: 'random' }),
    /recipe "text-only": give textModel, not imageModel/,
  );
  assert.throws(
    () => buildClassifier({ ...SPEC, fusion: 'concat' }, { init: 'random' }),
    /recipe "text-only": option "fusion" does not apply/,
  );
});

test('text-only classifies on the pretrained first-token state and round-trips through a checkpoint', () => {
  const m = buildClassifier(SPEC, { init: 'pretrained' }).eval();
  const out = tmpdir();
  const folder = mkdtempSync(join(out, 'tandem-text-only-'));
  try {
    tidy(() => {
      const batch = goldenBatch('bert');
      const pair = noGrad(() => m.encode(batch).pair);
      // the first-token state of BERT's last layer, as the golden reference has it
      const want = goldenInputs('bert').get('input_ids')!.size(0);
      assert.deepEqual(pair.shape, [want, 32]);
      saveClassifier(folder, m);
      const back = loadClassifier(folder).eval();
      const again = noGrad(() => back.classify(back.encode(batch).pair));
      const first = noGrad(() => m.classify(pair));
      assert.equal(again.sub(first).abs().max().item(), 0);
      back.dispose();
    });
  } finally {
    m.dispose();
    rmSync(folder, { recursive: true, force: true });
  }
});

test('text-only trains with CE alone, and ITC / ITM are refused before any data is read', () => {
  const m = buildClassifier(SPEC, { init: 'pretrained' });
  tidy(() => {
    const batch = { ...goldenBatch('bert'), labels: tensor([0n, 1n, 2n, 0n], { dtype: 'int64' }) };
    const o = {
      multiLabel: false,
      classWeights: null,
      aux: { itc: false, itm: false },
      itmNegatives: 'random' as const,
      weights: { itc: 0.1, itm: 0.1, mode: 'convex' as const },
    };
    const l = objectiveLosses(m, batch, o);
    assert.equal(l.itc, null);
    l.total.backward();
    assert.ok(m.parameters().some((p) => p.grad && p.grad.abs().sum().item() > 0));
  });
  m.dispose();
  for (const [aux, asked] of [
    [{ itc: true, itm: false }, 'ITC pairs a text with an image and does'],
    [{ itc: false, itm: true }, 'ITM pairs a text with an image and does'],
    [{ itc: true, itm: true }, 'ITC and ITM pair a text with an image and do'],
  ] as const)
    assert.throws(
      () => checkObjectives({ spec: SPEC, aux }),
      new RegExp(
        `^DataError: recipe text-only reads only the text of each post: ${asked} not apply \\(train it with --aux none\\)$`,
      ),
    );
  assert.doesNotThrow(() => checkObjectives({ spec: SPEC, aux: { itc: false, itm: false } }));
});
