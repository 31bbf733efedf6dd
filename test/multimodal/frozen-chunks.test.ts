// A frozen image encoder run on chunks of a fixed number of images (frozen-chunks.ts): an image's features
// are the same bits whatever images it is computed with, for every recipe with a frozen image encoder, in
// fp32 and bf16, and a data-pipeline batch that finds part of its images in a feature cache (computed by
// other batch compositions) and computes only the rest carries exactly the features, and gives exactly the
// outputs, of the same batch run from its pixels without a cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadGeneric } from '../../src/data/generic.js';
import { PostEncoder, disposeBatch } from '../../src/data/pipeline/encoder.js';
import { FeatureCache } from '../../src/data/pipeline/feature-cache.js';
import { BatchLoader } from '../../src/data/pipeline/loader.js';
import { buildClassifier } from '../../src/multimodal/builder.js';
import type { MultimodalClassifier, PostBatch } from '../../src/multimodal/types.js';
import {
  getNumThreads,
  manualSeed,
  noGrad,
  randn,
  tensor,
  tidy,
  withPrecision,
  type Precision,
  type Tensor,
} from '../../src/tensor/index.js';
import { Tokenizer } from '../../src/text/tokenizer.js';
import { loadImageProcessorConfig } from '../../src/vision/index.js';
import { makeDataset, tempDir } from '../data/pipeline/fixtures.js';
import { dir } from './batch.js';
import { LABELS } from './cases.js';

function frozenModel(recipe: string): MultimodalClassifier {
  manualSeed(11);
  const inputs =
    recipe === 'lxmert'
      ? { model: dir('lxmert'), imageModel: dir('vit') }
      : recipe === 'image-only'
        ? { imageModel: dir('vit') }
        : { textModel: dir('bert'), imageModel: dir('vit') };
  const m = buildClassifier({ recipe, freezeImage: true, ...inputs, ...LABELS }, { init: 'random' });
  assert.ok(m.frozenImageFeatures, `${recipe}: a frozen image encoder`);
  return m;
}

const rowsOf = (t: Tensor, rows: number[]): Tensor =>
  t.indexSelect(0, tensor(BigInt64Array.from(rows, BigInt), { dtype: 'int64' }));

/** Largest |a - b| (0 only when every element is the same float). */
const maxAbs = (a: Tensor, b: Tensor): number => tidy(() => a.to('float32').sub(b.to('float32')).abs().max().item());

test('frozen features in fixed chunks: an image gives the same bits in any company, every frozen recipe, fp32 and bf16', () => {
  const B = 8;
  // 11 images: the first 8 are one batch; the subsets below put images at other positions, among others
  manualSeed(3);
  const pixels = randn([B + 3, 3, 32, 32]);
  const subsets = [[0], [7], [1, 4, 6], [2, 3, 5, 6, 7], [0, 1, 2, 3, 4, 5, 6], [9, 3, 10, 0]];
  for (const recipe of ['late-fusion', 'mmbt', 'image-only', 'lxmert']) {
    const m = frozenModel(recipe);
    for (const precision of ['fp32', 'bf16'] as Precision[]) {
      const f = (rows: number[]): Tensor =>
        noGrad(() =>
          withPrecision(precision, 'cpu', () => m.frozenImageFeatures!({ pixel_values: rowsOf(pixels, rows) })),
        );
      const all = [...Array(B + 3).keys()];
      tidy(() => {
        m.setFrozenImageChunk(undefined);
        const whole = f(all.slice(0, B));
        const unchunked = Math.max(...subsets.slice(0, 5).map((s) => maxAbs(f(s), rowsOf(whole, s))));
        m.setFrozenImageChunk(B);
        assert.equal(m.frozenImageChunk, B);
        const batch = f(all.slice(0, B));
        assert.equal(maxAbs(batch, whole), 0, `${recipe} ${precision}: a full chunk is the batch run at once`);
        // two chunks (8 + 3 padded): the first is the batch of 8
        const two = f(all);
        assert.deepEqual(two.shape[0], B + 3);
        const worst = Math.max(maxAbs(two.narrow(0, 0, B), batch), ...subsets.map((s) => maxAbs(f(s), rowsOf(two, s))));
        console.log(
          `${recipe} ${precision} (${getNumThreads()} threads): subsets vs the batch of ${B}: ${worst} in chunks of ${B}, up to ${unchunked} run as they come`,
        );
        assert.equal(worst, 0, `${recipe} ${precision}: features of an image in other company`);
      });
    }
    m.setFrozenImageChunk(undefined);
    assert.throws(() => m.setFrozenImageChunk(0), /chunk size must be a positive integer, got 0/);
    m.dispose();
  }
});

test('a partly cached batch carries exactly the features of the uncached batch, and gives the same outputs', async () => {
  const { file } = await makeDataset(12);
  const rows = loadGeneric(file, { noSaveSplit: true }).rows;
  const enc = new PostEncoder(Tokenizer.fromModelDir(dir('bert')), loadImageProcessorConfig(dir('vit')), {
    labelNames: LABELS.labelNames,
  });
  const BATCH = 4;
  const m = frozenModel('late-fusion');
  m.eval();
  m.setFrozenImageChunk(BATCH);
  let computedRows: number[] = [];
  const compute = (px: { pixel_values: Tensor }): Tensor => {
    computedRows.push(px.pixel_values.size(0));
    return noGrad(() => m.frozenImageFeatures!(px));
  };
  const cache = new FeatureCache(tempDir(), { frozenImageKey: m.frozenImageKey!, processorHash: enc.processorHash });
  // Another run filled part of the cache with other batch compositions: batches of 3 over every other post.
  const other = new BatchLoader(
    rows.filter((_, i) => i % 2 === 0),
    enc,
    { batchSize: 3, seed: 9, workers: 0, features: { cache, compute } },
  );
  for await (const b of other.epoch(0)) disposeBatch(b);
  assert.ok(cache.size >= 5 && cache.size < 11, `part of the 11 distinct images cached (${cache.size})`);

  const outputs = (b: PostBatch) =>
    noGrad(() => {
      const e = m.encode(b);
      return { pair: e.pair, imageEmbeds: e.imageEmbeds, textEmbeds: e.textEmbeds };
    });
  const plain = new BatchLoader(rows, enc, { batchSize: BATCH, seed: 4, workers: 0 });
  const cached = new BatchLoader(rows, enc, { batchSize: BATCH, seed: 4, workers: 0, features: { cache, compute } });
  const want = plain.epoch(0);
  let partly = 0;
  for await (const got of cached.epoch(0)) {
    const ref = (await want.next()).value as PostBatch;
    assert.deepEqual(got.ids, ref.ids);
    const features = got.image && 'features' in got.image ? got.image.features : undefined;
    assert.ok(features && ref.image && 'pixel_values' in ref.image, 'cached batch: features; plain batch: pixels');
    // the missing images of this batch were computed (if any): fewer than the batch means partly cached
    if (computedRows.length && computedRows[0]! < got.size) partly++;
    computedRows = [];
    tidy(() => {
      const uncached = noGrad(() => m.frozenImageFeatures!(ref.image as { pixel_values: Tensor }));
      const d = maxAbs(features, uncached);
      const a = outputs(got);
      const r = outputs(ref);
      const dOut = Math.max(maxAbs(a.pair, r.pair), maxAbs(a.imageEmbeds, r.imageEmbeds));
      console.log(
        `batch ${got.ids.join(',')}: features ${d}, pair and image embeddings ${dOut} from the uncached batch`,
      );
      assert.equal(d, 0, `batch ${got.ids.join(',')}: features differ from the uncached batch's`);
      assert.equal(dOut, 0, `batch ${got.ids.join(',')}: outputs differ from the uncached batch's`);
      assert.equal(maxAbs(a.textEmbeds, r.textEmbeds), 0);
    });
    disposeBatch(got);
    disposeBatch(ref);
  }
  assert.ok(partly >= 1, `at least one batch found part of its images cached (${partly})`);
  m.dispose();
});
