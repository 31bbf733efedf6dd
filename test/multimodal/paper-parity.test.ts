// The paper's models as its released code computes them: test/tools/paper_reference.py builds the paper's
// heads in PyTorch over the golden encoders' last-layer states (as transformers computed them) and writes
// weights, states and outputs to test/fixtures/paper. Here tandem's recipes run end to end on the golden
// inputs (tandem's own encoders, then the heads with the fixture's weights) and must give the same fused
// vectors, class logits, ITC embeddings and logits, ITM logits and losses, and for the attention fusion the
// same gradients. The heads alone are also run on the reference's own states, which isolates them from the
// encoders' float error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cat, noGrad, tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import { loadSafetensorsFile } from '../../src/io/tensors.js';
import { openModelWeights, readModelConfig } from '../../src/io/model-folder.js';
import { buildClassifier } from '../../src/multimodal/builder.js';
import { loadImageEncoder, loadTextEncoder } from '../../src/multimodal/encoders.js';
import type { LateFusionClassifier } from '../../src/multimodal/late-fusion.js';
import { maskedMaxPool } from '../../src/multimodal/lxmert.js';
import { ImageOnlyClassifier, TextOnlyClassifier } from '../../src/multimodal/unimodal.js';
import type { FusionKind } from '../../src/multimodal/fusion.js';
import type { MultimodalClassifier, PostBatch } from '../../src/multimodal/types.js';
import { classificationLoss } from '../../src/objectives/classification.js';
import { combineLosses, PAPER_WEIGHTS } from '../../src/objectives/combine.js';
import { itcLoss } from '../../src/objectives/itc.js';
import { itmLoss } from '../../src/objectives/itm.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { dir, goldenBatch, goldenInputs } from './batch.js';
import { LABELS } from './cases.js';

const PAPER = join(REPO_ROOT, 'test', 'fixtures', 'paper');
/** Outputs within this of the reference (observed: see the printed errors). */
const TOL = 1e-5;

const fixture = (name: string): Map<string, Tensor> => loadSafetensorsFile(join(PAPER, `${name}.safetensors`)).tensors;

function maxDiff(a: Tensor, b: Tensor, what: string): number {
  assert.deepEqual(a.shape, b.shape, `${what}: shape`);
  return tidy(() => a.sub(b.to(a.dtype)).abs().max().item());
}

/** Compares and records each named output; fails with every error over TOL listed. */
class Errors {
  readonly seen: [string, number][] = [];
  check(what: string, got: Tensor, want: Tensor | undefined): void {
    assert.ok(want, `fixture has no ${what}`);
    this.seen.push([what, maxDiff(got, want.reshape(got.shape as number[]), what)]);
  }
  report(title: string, tol = TOL): void {
    const worst = Math.max(...this.seen.map(([, d]) => d));
    console.log(
      `${title}: max |tandem - paper reference| ${worst.toExponential(2)} (${this.seen.map(([n, d]) => `${n} ${d.toExponential(1)}`).join(', ')})`,
    );
    const over = this.seen.filter(([, d]) => !(d <= tol));
    assert.deepEqual(over, [], `over ${tol}`);
  }
}

/** Copies the fixture's head weights (every name that is not in./out./grad.) into the model's parameters. */
function loadHeads(m: MultimodalClassifier, f: Map<string, Tensor>): string[] {
  const params = new Map(m.namedParameters());
  const names = [...f.keys()].filter((k) => !/^(in|out|grad)\./.test(k));
  assert.ok(names.length > 0);
  noGrad(() => {
    for (const n of names) {
      const p = params.get(n);
      assert.ok(
        p,
        `the model has no parameter ${n} (has: ${[...params.keys()].filter((k) => !k.includes('encoder')).join(', ')})`,
      );
      assert.deepEqual(p.shape, f.get(n)!.shape, `${n}: shape`);
      p.copy_(f.get(n)!);
    }
  });
  return names;
}

const labels = (f: Map<string, Tensor>, key: string): Tensor => f.get(key)!;

function lateFusion(fusion: FusionKind, freezeImage = true): LateFusionClassifier {
  return buildClassifier(
    { recipe: 'late-fusion', textModel: dir('bert'), imageModel: dir('vit'), fusion, freezeImage, ...LABELS },
    { init: 'pretrained' },
  ) as LateFusionClassifier;
}

for (const fusion of ['concat', 'attention', 'aspect-att', 'gmu'] as const) {
  test(`late fusion ${fusion}: fused vectors, logits, ITC, ITM and losses equal the paper's code`, () => {
    const f = fixture(`late-fusion-${fusion}`);
    const m = lateFusion(fusion);
    const heads = loadHeads(m, f);
    // every trainable parameter outside the encoders comes from the reference: no head is left at random
    const own = m
      .trainableParameters()
      .map(([n]) => n)
      .filter((n) => !n.startsWith('text_encoder.') && !n.startsWith('image_encoder.'));
    assert.deepEqual(own.sort(), [...heads].sort());
    m.eval();
    const b = goldenBatch('bert', 'vit');
    const textIndex = Array.from(labels(f, 'in.text_index').toArray() as unknown as ArrayLike<bigint>, Number);
    const e = new Errors();
    tidy(() => {
      // the heads alone, on the reference's own encoder states
      const ts = f.get('in.text_states')!;
      const is = f.get('in.image_states')!;
      const text = { first: ts.select(1, 0), pooled: f.get('in.text_pooled')! };
      const image = { first: is.select(1, 0), pooled: f.get('in.image_pooled')!, tokens: is };
      const alone = new Errors();
      alone.check('pair', m.fusion.forward(text, image), f.get('out.pair'));
      alone.report(`late fusion ${fusion}, heads on the reference states`, 1e-6);
      // the whole recipe on the golden inputs
      const enc = m.encode(b);
      const logits = m.classify(enc.pair);
      const itc = itcLoss(enc.textEmbeds, enc.imageEmbeds, m.logitScale);
      const mismatched = m.encodeMismatched(b, enc, textIndex);
      const itmLogits = m.matchLogits(mismatched);
      const ce = classificationLoss(logits, labels(f, 'in.labels'));
      const itm = itmLoss(itmLogits, labels(f, 'in.itm_labels'));
      const total = combineLosses({ ce, itc: itc.loss, itm }, PAPER_WEIGHTS);
      e.check('pair', enc.pair, f.get('out.pair'));
      e.check('logits', logits, f.get('out.logits'));
      e.check('text_embeds', enc.textEmbeds, f.get('out.text_embeds'));
      e.check('image_embeds', enc.imageEmbeds, f.get('out.image_embeds'));
      e.check('itc_logits', itc.logitsPerText, f.get('out.itc_logits'));
      e.check('itm_pair', mismatched, f.get('out.itm_pair'));
      e.check('itm_logits', itmLogits, f.get('out.itm_logits'));
      e.check('ce', ce, f.get('out.ce'));
      e.check('itc', itc.loss, f.get('out.itc'));
      e.check('itm', itm, f.get('out.itm'));
      e.check('total', total, f.get('out.total'));
      if (fusion === 'attention') {
        total.backward();
        const params = new Map(m.namedParameters());
        const g = new Errors();
        for (const n of [...f.keys()].filter((k) => k.startsWith('grad.')))
          g.check(n, params.get(n.slice('grad.'.length))!.grad!, f.get(n));
        assert.equal(g.seen.length, heads.length, 'a gradient for every head parameter');
        g.report('late fusion attention, gradients of the total loss');
      }
    });
    e.report(`late fusion ${fusion}, whole recipe`);
    m.dispose();
  });
}

test('late fusion with the image encoder trained reads the same states', () => {
  for (const fusion of ['concat', 'attention'] as const) {
    const f = fixture(`late-fusion-${fusion}`);
    const m = lateFusion(fusion, false);
    loadHeads(m, f);
    m.eval();
    const e = new Errors();
    tidy(() => {
      const enc = m.encode(goldenBatch('bert', 'vit'));
      e.check('pair', enc.pair, f.get('out.pair'));
      e.check('image_embeds', enc.imageEmbeds, f.get('out.image_embeds'));
    });
    e.report(`late fusion ${fusion}, image encoder trained`);
    m.dispose();
  }
});

test('late fusion: the cached-feature path gives the same outputs as pixels', () => {
  for (const fusion of ['concat', 'attention'] as const) {
    const f = fixture(`late-fusion-${fusion}`);
    const m = lateFusion(fusion);
    loadHeads(m, f);
    m.eval();
    const b = goldenBatch('bert', 'vit');
    tidy(() => {
      const features = m.frozenImageFeatures!(b.image as { pixel_values: Tensor });
      // pooled (32), then the [CLS] state or all 17 token states of 32
      assert.deepEqual(features.shape, [4, 32 + (fusion === 'attention' ? 17 : 1) * 32]);
      const cached: PostBatch = { ...b, image: { features } };
      const e = new Errors();
      e.check('pair', m.encode(cached).pair, f.get('out.pair'));
      e.check('image_embeds', m.encode(cached).imageEmbeds, f.get('out.image_embeds'));
      e.report(`late fusion ${fusion} from cached features`);
      assert.throws(
        () => m.encode({ ...b, image: { features: features.narrow(1, 0, 40) } }),
        /late-fusion: cached image features must be \[B, 32 \+ n·32\]/,
      );
    });
    assert.match(m.frozenImageKey!, fusion === 'attention' ? /pooled\+tokens/ : /pooled\+cls/);
    m.dispose();
  }
});

test('ViLT: classifier on the first token, ITC between the first text and first image tokens of the last layer', () => {
  const f = fixture('vilt');
  const m = buildClassifier({ recipe: 'vilt', model: dir('vilt'), ...LABELS }, { init: 'pretrained' });
  // a learnable scale initialised to ln(1/0.07) = 2.65926 (the paper's code: its rounding 2.6592)
  assert.ok(Math.abs(m.logitScale.item() - 2.6592) < 1e-4, `logit_scale init ${m.logitScale.item()}`);
  loadHeads(m, f);
  m.eval();
  const e = new Errors();
  tidy(() => {
    const enc = m.encode(goldenBatch('vilt', 'vilt', { pixelMask: true }));
    e.check('logits', m.classify(enc.pair), f.get('out.logits'));
    e.check('text_embeds', enc.textEmbeds, f.get('out.text_embeds'));
    e.check('image_embeds', enc.imageEmbeds, f.get('out.image_embeds'));
    const itc = itcLoss(enc.textEmbeds, enc.imageEmbeds, m.logitScale);
    e.check('itc_logits', itc.logitsPerText, f.get('out.itc_logits'));
    e.check('itc', itc.loss, f.get('out.itc'));
  });
  e.report('vilt');
  assert.equal(
    m.namedParameters().some(([n]) => n.startsWith('itc_')),
    false,
    'no ITC projections',
  );
  m.dispose();
});

function lxmertBatch(): PostBatch {
  const i = goldenInputs('lxmert');
  const b = goldenBatch('lxmert', 'lxmert');
  return { ...b, image: { features: cat([i.get('visual_feats')!, i.get('visual_pos')!], 2) } };
}

test('LXMERT max-pool: padding never wins, whatever its states', () => {
  tidy(() => {
    // post 0 has one padding position holding the largest value of every feature
    const states = tensor([
      [
        [1, -2],
        [3, 0],
        [9, 9],
      ],
      [
        [0, 5],
        [2, 1],
        [4, -1],
      ],
    ]);
    const mask = tensor([
      [1, 1, 0],
      [1, 1, 1],
    ]).to('int64');
    assert.deepEqual(maskedMaxPool(states, mask).toArray(), [3, 0, 4, 5]);
  });
});

test('LXMERT: classifier over a ReLU layer on the first language token, ITM on that token, ITC between the masked max-pooled language output (detached) and the max-pooled vision output', () => {
  const f = fixture('lxmert');
  for (const detach of [true, false]) {
    const m = buildClassifier(
      { recipe: 'lxmert', model: dir('lxmert'), ...LABELS, ...(detach ? {} : { itcDetachText: false }) },
      { init: 'pretrained' },
    );
    loadHeads(m, f);
    m.eval();
    const e = new Errors();
    tidy(() => {
      const enc = m.encode(lxmertBatch());
      e.check('text_embeds', enc.textEmbeds, f.get('out.text_embeds'));
      e.check('image_embeds', enc.imageEmbeds, f.get('out.image_embeds'));
      const itc = itcLoss(enc.textEmbeds, enc.imageEmbeds, m.logitScale);
      e.check('itc_logits', itc.logitsPerText, f.get('out.itc_logits'));
      e.check('itc', itc.loss, f.get('out.itc'));
      e.check('logits', m.classify(enc.pair), f.get('out.logits'));
      e.check('itm_logits_matched', m.matchLogits(enc.pair), f.get('out.itm_logits_matched'));
      // detached: no ITC gradient path through the language side
      assert.equal(enc.textEmbeds.requiresGrad, !detach, `textEmbeds.requiresGrad with itcDetachText ${detach}`);
      assert.equal(enc.imageEmbeds.requiresGrad, true);
    });
    if (detach) e.report('lxmert');
    assert.equal(m.recipeConfig().itcDetachText, detach);
    m.dispose();
  }
});

function withSource(folder: string, fn: (s: ReturnType<typeof openModelWeights>) => void): void {
  const s = openModelWeights(folder);
  try {
    fn(s);
  } finally {
    s.close();
  }
}

test('text-only baseline: a linear classifier on the first-token state', () => {
  const f = fixture('text-only');
  const m = new TextOnlyClassifier({ ...LABELS, text_config: readModelConfig(dir('bert')) });
  withSource(dir('bert'), (s) => loadTextEncoder(m.text_encoder, s));
  loadHeads(m, f);
  m.eval();
  const e = new Errors();
  tidy(() => {
    const enc = m.encode(goldenBatch('bert', 'vit'));
    const logits = m.classify(enc.pair);
    e.check('logits', logits, f.get('out.logits'));
    e.check('ce', classificationLoss(logits, f.get('in.labels')!), f.get('out.ce'));
    assert.throws(() => enc.textEmbeds, /text-only: ITC needs a text and an image embedding/);
    assert.throws(() => enc.imageEmbeds, /text-only: ITC needs/);
    assert.throws(() => m.logitScale, /text-only: no ITC temperature/);
    assert.throws(() => m.matchLogits(enc.pair), /text-only: ITM pairs a text with an image/);
    assert.throws(() => m.encodeMismatched(goldenBatch('bert', 'vit'), enc, [1, 0, 3, 2]), /text-only: ITM/);
  });
  e.report('text-only');
  m.dispose();
});

test('image-only baseline: a linear classifier on the [CLS] state', () => {
  const f = fixture('image-only');
  const m = new ImageOnlyClassifier({ ...LABELS, vision_config: readModelConfig(dir('vit')) });
  withSource(dir('vit'), (s) => loadImageEncoder(m.image_encoder, s));
  loadHeads(m, f);
  m.eval();
  const e = new Errors();
  tidy(() => {
    const enc = m.encode(goldenBatch('bert', 'vit'));
    e.check('logits', m.classify(enc.pair), f.get('out.logits'));
    assert.throws(() => enc.imageEmbeds, /image-only: ITC needs/);
  });
  e.report('image-only');
  assert.deepEqual(
    m
      .namedParameters()
      .filter(([n]) => !n.startsWith('image_encoder.'))
      .map(([n]) => n)
      .sort(),
    ['classifier.bias', 'classifier.weight'],
  );
  m.dispose();
});
