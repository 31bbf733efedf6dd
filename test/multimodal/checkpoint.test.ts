// Run checkpoints as model folders: save -> load gives the same outputs; missing/unexpected tensors are named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import { loadSafetensorsFile, saveTensors } from '../../src/io/tensors.js';
import { buildClassifier, loadClassifier, saveClassifier, sourceFolderFiles } from '../../src/multimodal/builder.js';
import type { MultimodalClassifier, PostBatch } from '../../src/multimodal/types.js';
import { goldenBatch } from './batch.js';
import { CASES } from './cases.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'tandem-mm-'));

function outputs(m: MultimodalClassifier, b: PostBatch): Tensor[] {
  m.eval();
  const e = m.encode(b);
  return [
    e.textEmbeds,
    e.imageEmbeds,
    e.pair,
    m.classify(e.pair),
    m.matchLogits(m.encodeMismatched(b, e, [1, 0, 3, 2])),
  ];
}

for (const c of CASES) {
  test(`${c.name}: save -> load gives identical outputs`, () => {
    const dir = tmp();
    try {
      // random init + a nudged head, so the round trip cannot pass by re-reading the source folders
      const m = buildClassifier(c.spec, { init: 'random' });
      tidy(() =>
        m
          .namedParameters()
          .find(([n]) => n === 'classifier.bias')![1]
          .add_(tensor([0.5, -0.25, 1])),
      );
      saveClassifier(join(dir, 'best'), m, sourceFolderFiles(c.spec));
      const back = loadClassifier(join(dir, 'best'));
      assert.equal(back.recipe, m.recipe);
      assert.equal(back.constructor, m.constructor);
      assert.deepEqual(back.recipeConfig(), m.recipeConfig());
      const b = goldenBatch(c.text, c.image);
      tidy(() => {
        const [x, y] = [outputs(m, b), outputs(back, b)];
        x.forEach((t, i) => assert.equal(t.sub(y[i]!).abs().max().item(), 0, `output ${i}`));
      });
      const files = readdirSync(join(dir, 'best')).sort();
      assert.ok(files.includes('config.json') && files.includes('model.safetensors'));
      assert.ok(!files.some((f) => f.endsWith('.tmp')), 'no temp files left');
      assert.ok(files.includes('tokenizer.json'), `tokenizer copied: ${files}`);
      m.dispose();
      back.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('config.json holds the recipe, labels and the sub-models full configs', () => {
  const dir = tmp();
  try {
    const c = CASES[2]!; // late fusion gmu, xlm-roberta + siglip
    const m = buildClassifier(c.spec, { init: 'random' });
    saveClassifier(dir, m, sourceFolderFiles(c.spec));
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, any>;
    assert.equal(cfg.model_type, 'tandem');
    assert.deepEqual(cfg.architectures, ['LateFusionClassifier']);
    assert.deepEqual(cfg.id2label, { 0: 'negative', 1: 'neutral', 2: 'positive' });
    assert.deepEqual(cfg.label2id, { negative: 0, neutral: 1, positive: 2 });
    const t = cfg.tandem;
    assert.equal(t.recipe, 'late-fusion');
    assert.equal(t.fusion, 'gmu');
    assert.equal(t.representation, 'pooled');
    assert.equal(t.itmDropout, false);
    assert.equal(t.freezeImage, true);
    assert.equal(t.itcDim, 8);
    assert.equal(t.dropout, 0.05);
    assert.deepEqual(t.labelNames, ['negative', 'neutral', 'positive']);
    assert.deepEqual(t.text_config, JSON.parse(readFileSync(join(c.spec.textModel!, 'config.json'), 'utf8')));
    assert.deepEqual(t.vision_config, JSON.parse(readFileSync(join(c.spec.imageModel!, 'config.json'), 'utf8')));
    assert.ok(existsSync(join(dir, 'preprocessor_config.json')));
    const names = [...loadSafetensorsFile(join(dir, 'model.safetensors')).tensors.keys()];
    assert.deepEqual(names.sort(), [...m.stateDict().keys()].sort());
    assert.ok(
      names.includes('logit_scale') &&
        names.includes('fusion.fusion_layer.weight') &&
        names.includes('fusion.text_proj.bias') &&
        names.includes('image_encoder.head.probe'),
    );
    m.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loading a checkpoint with a missing or an unexpected tensor names it', () => {
  const dir = tmp();
  try {
    const c = CASES[0]!;
    const m = buildClassifier(c.spec, { init: 'random' });
    saveClassifier(dir, m);
    const weights = join(dir, 'model.safetensors');
    const all = loadSafetensorsFile(weights).tensors;
    const missing = new Map(all);
    missing.delete('fusion.fusion_layer.bias');
    saveTensors(weights, missing);
    assert.throws(
      () => loadClassifier(dir),
      (e: Error) =>
        /missing from the checkpoint: fusion\.fusion_layer\.bias/.test(e.message) && e.message.includes(weights),
    );
    const extra = new Map(all);
    extra.set('classifier.extra', all.get('classifier.bias')!);
    saveTensors(weights, extra);
    assert.throws(() => loadClassifier(dir), /not used by LateFusionClassifier: classifier\.extra/);
    const shaped = new Map(all);
    shaped.set('classifier.bias', tensor([1, 2]));
    saveTensors(weights, shaped);
    assert.throws(() => loadClassifier(dir), /mis-shaped: classifier\.bias \(checkpoint \[2\], model \[3\]\)/);
    m.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('config errors name the file and the field', () => {
  const dir = tmp();
  try {
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert' }));
    assert.throws(() => loadClassifier(dir), /config\.json: no "tandem" section/);
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        tandem: { recipe: 'late-fusion', numLabels: 2, labelNames: ['a', 'b'], text_config: {}, vision_config: 3 },
      }),
    );
    assert.throws(() => loadClassifier(dir), /config\.json › tandem: "vision_config" must be an object/);
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ tandem: { recipe: 'mmbt', numLabels: 2, labelNames: ['a', 'b'], imageTokens: 'three' } }),
    );
    assert.throws(() => loadClassifier(dir), /"imageTokens" must be an integer, got "three"/);
    assert.throws(
      () => saveClassifier(dir, buildClassifier(CASES[5]!.spec, { init: 'random' }), { 'config.json': '{}' }),
      /extra file name "config.json" is not allowed/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
