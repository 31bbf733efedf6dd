// Pretrained recipes reproduce the reference outputs of the golden checkpoints they wrap, and MMBT's
// multimodal sequence is exactly a BERT pass over [CLS] image tokens [SEP] text with its own positions/segments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cat, F, noGrad, ones, tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import { loadSafetensorsFile } from '../../src/io/tensors.js';
import { buildClassifier } from '../../src/multimodal/builder.js';
import { LateFusionClassifier } from '../../src/multimodal/late-fusion.js';
import { MmbtClassifier } from '../../src/multimodal/mmbt.js';
import type { ModalityStates } from '../../src/multimodal/fusion.js';
import { dir, goldenBatch, goldenInputs, MODELS } from './batch.js';
import { CASES, LABELS } from './cases.js';
import { expectClose } from '../helpers/parity.js';

const golden = (name: string): Map<string, Tensor> =>
  loadSafetensorsFile(join(MODELS, name, 'outputs.safetensors')).tensors;
// The recipes run the families' own forward passes: the same tolerance as the model tests (2e-6 of the scale).
const close = (a: Tensor, b: Tensor, rel: number, what: string): void => {
  expectClose(a, b, { rel, name: what });
};

test('late fusion: t and v are the first-token states of the last layers, ITC reads the pooled outputs (BERT, RoBERTa, ViT)', () => {
  for (const [text, image] of [
    ['bert', 'vit'],
    ['roberta', 'vit'],
  ] as const) {
    const m = buildClassifier(
      { recipe: 'late-fusion', textModel: dir(text), imageModel: dir(image), ...LABELS },
      { init: 'pretrained' },
    ).eval() as LateFusionClassifier;
    const lastText = text === 'bert' ? 'hidden_states.2' : 'last_hidden_state';
    tidy(() => {
      const c = m.encode(goldenBatch(text, image)).cache as { text: ModalityStates; image: ModalityStates };
      close(c.text.first, golden(text).get(lastText)!.select(1, 0), 2e-6, `${text} first token`);
      close(c.image.first, golden(image).get('last_hidden_state')!.select(1, 0), 2e-6, `${image} [CLS]`);
      close(c.text.pooled, golden(text).get('pooler_output')!, 2e-6, `${text} pooled`);
      close(c.image.pooled, golden(image).get('pooler_output')!, 2e-6, `${image} pooled`);
    });
    m.dispose();
  }
  // tandem's earlier late fusion: the pooled outputs, concatenated
  const plain = buildClassifier(
    {
      recipe: 'late-fusion',
      textModel: dir('bert'),
      imageModel: dir('vit'),
      fusion: 'concat-plain',
      representation: 'pooled',
      ...LABELS,
    },
    { init: 'pretrained' },
  ).eval();
  tidy(() =>
    close(
      plain.encode(goldenBatch('bert', 'vit')).pair,
      cat([golden('bert').get('pooler_output')!, golden('vit').get('pooler_output')!], 1),
      1e-4,
      'concat-plain of the pooled outputs',
    ),
  );
  plain.dispose();
});

test('clip and siglip: ITC embeddings and temperature are the model’s own', () => {
  const clip = buildClassifier({ ...CASES[7]!.spec, fusion: 'concat-plain' }, { init: 'pretrained' }).eval();
  tidy(() => {
    const g = golden('clip');
    const e = clip.encode(goldenBatch('clip', 'clip'));
    close(e.textEmbeds, g.get('text_pooler_output')!, 2e-6, 'text');
    close(e.imageEmbeds, g.get('vision_pooler_output')!, 2e-6, 'image');
    const logits = F.normalize(e.textEmbeds, { dim: -1 })
      .matmul(F.normalize(e.imageEmbeds, { dim: -1 }).T)
      .mul(clip.logitScale.exp());
    close(logits, g.get('logits_per_text')!, 2e-6, 'logits');
    // pair (concat-plain) = concat of the normalised embeddings
    close(e.pair, cat([g.get('text_embeds')!, g.get('image_embeds')!], 1), 2e-6, 'pair');
  });
  const siglip = buildClassifier(CASES[8]!.spec, { init: 'pretrained' }).eval();
  tidy(() => {
    const g = golden('siglip');
    const e = siglip.encode(goldenBatch('siglip', 'siglip'));
    close(F.normalize(e.textEmbeds, { dim: -1 }), g.get('text_embeds')!, 2e-6, 'siglip text');
    close(F.normalize(e.imageEmbeds, { dim: -1 }), g.get('image_embeds')!, 2e-6, 'siglip image');
  });
  clip.dispose();
  siglip.dispose();
});

test('vilt: pair is the first-token state of the last layer, or the pooler output', () => {
  for (const representation of ['first-token', 'pooled'] as const) {
    const m = buildClassifier({ ...CASES[5]!.spec, representation }, { init: 'pretrained' }).eval();
    const g = golden('vilt');
    const want = representation === 'pooled' ? g.get('pooler_output')! : g.get('text_last_hidden_state')!.select(1, 0);
    tidy(() => close(m.encode(goldenBatch('vilt', 'vilt', { pixelMask: true })).pair, want, 2e-6, representation));
    m.dispose();
  }
});

test('lxmert: detector region features in the batch; pair is the first language token, or the pooled output', () => {
  const m = buildClassifier({ recipe: 'lxmert', model: dir('lxmert'), ...LABELS }, { init: 'pretrained' }).eval();
  const inp = goldenInputs('lxmert');
  const b = goldenBatch('lxmert', 'vit');
  const features = cat([inp.get('visual_feats')!, inp.get('visual_pos')!], 2);
  tidy(() => {
    const e = m.encode({ ...b, image: { features } });
    close(e.pair, golden('lxmert').get('language_output')!.select(1, 0), 2e-6, 'first language token');
    assert.deepEqual(e.imageEmbeds.shape, [4, 32], 'max-pooled vision output, no projection');
  });
  assert.throws(() => tidy(() => m.encode(b)), /no image model: the batch must carry region features/);
  assert.throws(
    () => tidy(() => m.encode({ ...b, image: { features: inp.get('visual_feats')! } })),
    /image\.features must be \[B, regions, 20\] \(visual_feat_dim \+ visual_pos_dim\), got \[4,6,16\]/,
  );
  m.dispose();
  const pooled = buildClassifier(
    { recipe: 'lxmert', model: dir('lxmert'), representation: 'pooled', ...LABELS },
    { init: 'pretrained' },
  ).eval();
  tidy(() =>
    close(pooled.encode({ ...b, image: { features } }).pair, golden('lxmert').get('pooled_output')!, 1e-4, 'pooled'),
  );
  assert.equal(
    pooled.namedParameters().some(([n]) => n.startsWith('fusion_layer.')),
    false,
    'no ReLU layer with the pooled output',
  );
  pooled.dispose();
});

test('blip: the ITM head on pair gives itm_score; its own projections give cosine_sim', () => {
  const m = buildClassifier(CASES[9]!.spec, { init: 'pretrained' }).eval();
  tidy(() => {
    const g = golden('blip-itm');
    const e = m.encode(goldenBatch('blip-itm', 'blip-itm'));
    close(m.matchLogits(e.pair), g.get('itm_score')!, 2e-6, 'itm_score');
    close(
      F.normalize(e.imageEmbeds, { dim: -1 }).matmul(F.normalize(e.textEmbeds, { dim: -1 }).T),
      g.get('cosine_sim')!,
      2e-6,
      'cosine_sim',
    );
  });
  m.dispose();
});

test('mmbt: the sequence is [CLS] image tokens [SEP] | text [SEP] with own positions and segments', () => {
  const m = buildClassifier(
    { recipe: 'mmbt', textModel: dir('bert'), imageModel: dir('vit'), imageTokens: 3, ...LABELS },
    { init: 'pretrained' },
  ).eval() as MmbtClassifier;
  const X = 7; // make every image token the word embedding of token 7, so a plain BERT pass can reproduce the sequence
  noGrad(() => {
    m.modal_proj.weight.zero_();
    m.modal_proj.bias!.copy_(m.text_encoder.embeddings.word_embeddings.weight.select(0, X));
  });
  const b = goldenBatch('bert', 'vit');
  tidy(() => {
    const ids = b.text.input_ids;
    const mask = b.text.attention_mask;
    const [B, L] = ids.shape as [number, number];
    const lens = mask.sum(1).toArray();
    const rows = ids.toArray();
    // expected: [first, X, X, X, last real token, ids[1:]]
    const seq: bigint[] = [];
    for (let i = 0; i < B; i++) {
      const r = rows.slice(i * L, (i + 1) * L);
      seq.push(...[r[0]!, X, X, X, r[lens[i]! - 1]!, ...r.slice(1)].map((v) => BigInt(v)));
    }
    const n = 5 + L - 1;
    const input_ids = tensor(BigInt64Array.from(seq), { shape: [B, n] });
    const pos = tensor(BigInt64Array.from([0, 1, 2, 3, 4, ...Array.from({ length: L - 1 }, (_, k) => k)].map(BigInt)), {
      shape: [1, n],
    })
      .expand(B, n)
      .contiguous();
    const types = tensor(BigInt64Array.from([0, 0, 0, 0, 0, ...Array.from({ length: L - 1 }, () => 1)].map(BigInt)), {
      shape: [1, n],
    })
      .expand(B, n)
      .contiguous();
    const attention_mask = cat([ones([B, 5], { dtype: 'int64' }), mask.narrow(1, 1, L - 1)], 1);
    const expected = m.text_encoder.forward({
      input_ids,
      attention_mask,
      token_type_ids: types,
      position_ids: pos,
    }).pooler_output!;
    close(m.encode(b).pair, expected, 1e-6, 'mmbt pair');
  });
  m.dispose();
});
