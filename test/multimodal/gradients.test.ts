import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tidy, type Tensor } from '../../src/tensor/index.js';
import {
  buildClassifier,
  hasFrozenImageEncoder,
  recipeConfigFor,
  type RecipeSpec,
} from '../../src/multimodal/builder.js';
import type { MultimodalClassifier } from '../../src/multimodal/types.js';
import { goldenBatch } from './batch.js';
import { CASES } from './cases.js';

/** Backpropagates a loss touching every output (classifier, ITM, ITC with the temperature); returns the names with a non-zero gradient. */
function gradNames(m: MultimodalClassifier, text: string, image: string): { withGrad: Set<string>; all: string[] } {
  m.train();
  m.zeroGrad();
  const b = goldenBatch(text, image);
  tidy(() => {
    const e = m.encode(b);
    const sim = e.textEmbeds.matmul(e.imageEmbeds.T).mul(m.logitScale.exp());
    const neg = m.encodeMismatched(b, e, [1, 0, 3, 2]);
    const loss = m.classify(e.pair).pow(2).sum().add(m.matchLogits(neg).pow(2).sum()).add(sim.pow(2).sum());
    loss.backward();
  });
  const withGrad = new Set<string>();
  for (const [n, p] of m.namedParameters()) {
    const g = p.grad;
    if (g && tidy(() => g.abs().sum().item()) > 0) withGrad.add(n);
    g?.dispose();
  }
  return { withGrad, all: m.namedParameters().map(([n]) => n) };
}

/** unused: parameters the recipe never reads (ViT's pooler under MMBT/LXMERT, LXMERT's last vision cross-layer). */
function check(
  spec: RecipeSpec,
  text: string,
  image: string,
  frozen: boolean,
  unused: RegExp | null = null,
  prefix = 'image_encoder.',
): void {
  const m = buildClassifier(spec, { init: 'pretrained' });
  // what `tandem train --feature-cache` decides before building anything agrees with the built model
  assert.equal(hasFrozenImageEncoder(recipeConfigFor(spec)), frozen, 'hasFrozenImageEncoder');
  const { withGrad, all } = gradNames(m, text, image);
  const imageParams = all.filter((n) => n.startsWith(prefix) && !unused?.test(n));
  assert.ok(imageParams.length > 10);
  for (const n of imageParams)
    assert.equal(withGrad.has(n), !frozen, `${n}: ${frozen ? 'frozen, no gradient' : 'trained, has a gradient'}`);
  for (const n of ['classifier.weight', 'logit_scale']) assert.ok(withGrad.has(n), `${n} has a gradient`);
  const rest = all.filter((n) => !n.startsWith(prefix) && !unused?.test(n));
  const without = rest.filter((n) => !withGrad.has(n));
  // Only embedding rows of unused token types / positions may see no gradient; every layer does.
  assert.ok(
    without.every((n) => /token_type_embeddings|position_embeddings/.test(n)) || without.length === 0,
    `no gradient: ${without.join(', ')}`,
  );
  assert.equal(
    m.namedParameters().filter(([n, p]) => n.startsWith(prefix) && p.requiresGrad).length,
    frozen ? 0 : all.filter((n) => n.startsWith(prefix)).length,
  );
  if (frozen) {
    assert.ok(m.frozenImageFeatures, 'frozenImageFeatures is offered when frozen');
    assert.match(m.frozenImageKey!, /^[a-z-]+\/[a-z]+:.*[0-9a-f]{64}$/);
    // the frozen encoder stays in eval mode while the classifier trains
    const enc = m.namedModules().find(([n]) => n === prefix.slice(0, -1))![1];
    assert.equal(m.training, true);
    assert.equal(enc.training, false);
  } else {
    assert.equal(m.frozenImageFeatures, undefined);
    assert.equal(m.frozenImageKey, undefined);
  }
  m.dispose();
}

const lf = CASES[0]!;
const mmbt = CASES[3]!;
const lx = CASES[6]!;

test('late fusion: the frozen image encoder gets no gradient, everything else does', () =>
  check(lf.spec, lf.text, lf.image, true));
test('late fusion with freezeImage: false trains the image encoder', () =>
  check({ ...lf.spec, freezeImage: false }, lf.text, lf.image, false));
test('late fusion gmu over a frozen CLIP tower', () => check(CASES[1]!.spec, CASES[1]!.text, CASES[1]!.image, true));
test('mmbt: frozen by default, trainable on request', () => {
  check(mmbt.spec, mmbt.text, mmbt.image, true, /^image_encoder\.pooler\./);
  check({ ...mmbt.spec, freezeImage: false }, mmbt.text, mmbt.image, false, /^image_encoder\.pooler\./);
});
// The pair is the first language token (LXMERT's pooler feeds nothing); the ITC max-pool reads the vision output.
const LXMERT_UNUSED = /^image_encoder\.pooler\.|^lxmert\.pooler\./;
test('lxmert over a frozen ViT', () => check(lx.spec, lx.text, lx.image, true, LXMERT_UNUSED));
test('lxmert over a trained ViT', () =>
  check({ ...lx.spec, freezeImage: false }, lx.text, lx.image, false, LXMERT_UNUSED));

test('vilt, clip, blip: every parameter of the model trains', () => {
  for (const c of [CASES[5]!, CASES[7]!, CASES[9]!]) {
    const m = buildClassifier(c.spec, { init: 'pretrained' });
    assert.equal(hasFrozenImageEncoder(recipeConfigFor(c.spec)), false, `${c.name}: no frozen image encoder`);
    assert.equal(m.frozenImageFeatures, undefined);
    const { withGrad, all } = gradNames(m, c.text, c.image);
    // ViLT's pooler feeds nothing: the paper's ViLT reads the first-token state, not the pooler
    const without = all.filter(
      (n) => !withGrad.has(n) && !/token_type_embeddings|position_embeddings|probe|^vilt\.pooler\./.test(n),
    );
    assert.deepEqual(without, [], c.name);
    m.dispose();
  }
});

test('frozen encoders: cached features give the same encoding without running the encoder', () => {
  for (const c of [lf, mmbt, lx]) {
    const m = buildClassifier(c.spec, { init: 'pretrained' }).eval();
    const b = goldenBatch(c.text, c.image);
    tidy(() => {
      const direct = m.encode(b);
      const features = m.frozenImageFeatures!(b.image as { pixel_values: Tensor });
      assert.equal(features.requiresGrad, false);
      const enc = m.namedModules().find(([n]) => n === 'image_encoder')![1] as unknown as {
        forward: (...a: unknown[]) => unknown;
      };
      const original = enc.forward;
      let calls = 0;
      enc.forward = (...a: unknown[]) => {
        calls++;
        return original.apply(enc, a);
      };
      const cached = m.encode({ ...b, image: { features } });
      enc.forward = original;
      assert.equal(calls, 0, `${c.name}: the image encoder did not run`);
      assert.ok(cached.pair.sub(direct.pair).abs().max().item() <= 1e-6);
      assert.ok(cached.imageEmbeds.sub(direct.imageEmbeds).abs().max().item() <= 1e-6);
    });
    const key = m.frozenImageKey;
    assert.equal(m.frozenImageKey, key, 'the key is stable');
    tidy(() =>
      m
        .namedParameters()
        .find(([n]) => n.startsWith('image_encoder.'))![1]
        .add_(
          tidy(() =>
            m
              .namedParameters()
              .find(([n]) => n.startsWith('image_encoder.'))![1]
              .mul(0)
              .add(1e-3),
          ),
        ),
    );
    assert.notEqual(m.frozenImageKey, key, 'the key follows the weights');
    m.dispose();
  }
  const trained = buildClassifier({ ...lf.spec, freezeImage: false }, { init: 'random' });
  assert.throws(
    () =>
      tidy(() =>
        trained.encode({ ...goldenBatch('bert'), image: { features: goldenBatch('bert').text.attention_mask } }),
      ),
    /cached image features, but the image encoder is trained/,
  );
  trained.dispose();
});
