// SigLIP, BLIP, ViLT and DeiT image processors (PIL backend) against reference pixel_values computed with
// Pillow and NumPy following transformers' slow processors (test/tools/gen_processor_refs.py; transformers is
// not installed here, so the reference is those steps written out, run on Pillow's decode and resize).
// The torchvision backend's references (ViT, CLIP) are in golden-images.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensors } from '../../src/io/safetensors.js';
import { decodeImage } from '../../src/vision/decode.js';
import { parseImageProcessorConfig, processImages } from '../../src/vision/processor.js';
import { GOLDEN, REPO_ROOT } from '../helpers/cli.js';

const DIR = join(REPO_ROOT, 'test', 'fixtures', 'processors');
const ref = readSafetensors(join(DIR, 'reference.safetensors')).tensors;
const meta = JSON.parse(readFileSync(join(DIR, 'processors.json'), 'utf8')) as {
  images: string[];
  processors: Record<string, unknown>;
};

for (const proc of ['siglip', 'blip', 'vilt', 'deit']) {
  test(`${proc} pixel_values (PIL backend) equal the Pillow/NumPy reference bit for bit (six golden images)`, async () => {
    const cfg = parseImageProcessorConfig(meta.processors[proc], `processors.json#${proc}`);
    let worst = 0;
    for (const name of meta.images) {
      const want = ref.get(`${name}.${proc}`)!;
      const img = await decodeImage(join(GOLDEN, 'images', name));
      const out = processImages(cfg, [img], { backend: 'pil' });
      assert.deepEqual(out.shape, [1, ...want.shape], `${proc} ${name}: shape`);
      const w = new Float32Array(
        want.data.buffer.slice(want.data.byteOffset, want.data.byteOffset + want.data.byteLength),
      );
      let max = 0;
      for (let i = 0; i < w.length; i++) max = Math.max(max, Math.abs(out.pixel_values[i]! - w[i]!));
      worst = Math.max(worst, max);
      assert.equal(max, 0, `${proc} ${name}: max abs diff ${max}`);
    }
    console.log(`${proc} (pil): ${meta.images.length} images, worst max abs diff ${worst.toExponential(2)}`);
  });
}
