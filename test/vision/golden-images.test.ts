// The images of test/fixtures/golden/images against transformers' reference (image_reference.safetensors):
// decoding as PIL, and ViTImageProcessor / CLIPImageProcessor pixel_values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '../../src/io/safetensors.js';
import { decodeImage } from '../../src/vision/decode.js';
import { parseImageProcessorConfig, processImages, type Backend } from '../../src/vision/processor.js';
import { GOLDEN } from '../helpers/cli.js';

const DIR = join(GOLDEN, 'images');
const ref = readSafetensors(join(DIR, 'image_reference.safetensors')).tensors;
const cases = JSON.parse(readFileSync(join(DIR, 'image_reference.json'), 'utf8')) as {
  vit_processor: unknown;
  clip_processor: unknown;
  images: Record<string, { mode: string; size: [number, number] }>;
};
const NAMES = Object.keys(cases.images);

function refFloat(name: string): Float32Array {
  const t = ref.get(name);
  assert.ok(t, `reference tensor ${name} missing`);
  return new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));
}

test('the fixture lists six images', () => {
  assert.deepEqual(NAMES.sort(), ['a.jpg', 'b.png', 'c.png', 'd.jpg', 'e.jpg', 'f.png']);
});

test('decoding matches PIL exactly, PNG and JPEG', async () => {
  for (const name of NAMES) {
    const img = await decodeImage(join(DIR, name));
    const want = ref.get(`${name}.decoded_rgb_u8`)!;
    const [w, h] = cases.images[name]!.size;
    assert.deepEqual([img.width, img.height], [w, h], name);
    assert.deepEqual(want.shape, [h, w, 3]);
    let sum = 0;
    let max = 0;
    for (let i = 0; i < img.data.length; i++) {
      const d = Math.abs(img.data[i]! - want.data[i]!);
      sum += d;
      if (d > max) max = d;
    }
    const mean = sum / img.data.length;
    console.log(`decode ${name} (${cases.images[name]!.mode}): mean abs diff ${mean.toFixed(4)}, max ${max}`);
    // JPEG too: sharp's libjpeg-turbo and Pillow's use the same default IDCT and upsampling (observed: 0).
    assert.equal(max, 0, `${name} must decode exactly as PIL`);
  }
});

async function maxDiff(processor: 'vit' | 'clip', backend: Backend): Promise<Map<string, number>> {
  const cfg = parseImageProcessorConfig(
    processor === 'vit' ? cases.vit_processor : cases.clip_processor,
    `image_reference.json#${processor}_processor`,
  );
  const out = new Map<string, number>();
  for (const name of NAMES) {
    const batch = processImages(cfg, [await decodeImage(join(DIR, name))], { backend });
    const want = refFloat(`${name}.${processor}_pixel_values`);
    assert.deepEqual(batch.shape, [1, ...ref.get(`${name}.${processor}_pixel_values`)!.shape]);
    let max = 0;
    for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs(batch.pixel_values[i]! - want[i]!));
    out.set(name, max);
  }
  return out;
}

for (const processor of ['vit', 'clip'] as const) {
  test(`${processor} pixel_values, torchvision backend (the reference's): bit-exact`, async () => {
    const diffs = await maxDiff(processor, 'torchvision');
    for (const [name, d] of diffs) {
      console.log(`${processor} torchvision ${name}: max abs diff ${d.toExponential(3)}`);
      assert.equal(d, 0, `${name}`);
    }
  });

  test(`${processor} pixel_values, PIL backend: within 0.02 (one or two uint8 levels where Pillow rounds differently)`, async () => {
    const diffs = await maxDiff(processor, 'pil');
    let worst = 0;
    for (const [name, d] of diffs) {
      console.log(`${processor} pil ${name}: max abs diff ${d.toExponential(3)}`);
      worst = Math.max(worst, d);
    }
    assert.ok(worst < 0.02, `worst ${worst}`);
    // Pillow's 22-bit weights and torch's int16 weights do round some pixels differently: the backends are distinct.
    assert.ok(worst > 1e-3, 'expected the PIL backend to differ from the torchvision reference somewhere');
  });
}
