// Images from scraped releases, each against what the paper's code gets from Pillow 9.4
// (`Image.open(f).convert('RGB')`, test/tools/gen_image_edge_cases.py): decoded to the same bytes, or refused
// with an error naming the file and what is wrong, and in the data pipeline a named bad row, never a crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PostEncoder } from '../../src/data/pipeline/encoder.js';
import { validateRowsDecoding } from '../../src/data/pipeline/validate.js';
import { probeImage } from '../../src/data/images-check.js';
import type { Row } from '../../src/data/rows.js';
import { Tokenizer } from '../../src/text/tokenizer.js';
import { decodeImage, ImageDecodeError, loadImageProcessorConfig } from '../../src/vision/index.js';
import { GOLDEN, REPO_ROOT } from '../helpers/cli.js';

const DIR = join(REPO_ROOT, 'test', 'fixtures', 'images-edge');
interface Case {
  file: string;
  what: string;
  pil_mode?: string;
  width?: number;
  height?: number;
  rgb?: string;
  pil_error?: string;
}
const { cases } = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as { cases: Case[] };

// What tandem says for each file Pillow cannot read.
const REFUSED: Record<string, RegExp> = {
  'truncated.jpg': /truncated\.jpg: truncated image \(.*premature end of JPEG/,
  'empty.jpg': /empty\.jpg: empty file \(0 bytes\), not an image/,
  'error-page.jpg': /error-page\.jpg: an HTML page \(a saved error or login page\?\), not an image/,
  'huge.png':
    /huge\.png: image is 20000x20000 = 400000000 pixels, over the limit of 89478485 \(possible decompression bomb/,
};

for (const c of cases) {
  if (c.rgb) {
    test(`${c.file} (${c.what}) decodes to Pillow's convert('RGB') bytes`, async () => {
      const want = readFileSync(join(DIR, c.rgb!));
      const img = await decodeImage(join(DIR, c.file));
      assert.deepEqual([img.width, img.height], [c.width, c.height]);
      let max = 0;
      for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs(want[i]! - img.data[i]!));
      console.log(`${c.file} (Pillow mode ${c.pil_mode}): max |tandem - Pillow| = ${max}`);
      // Observed 0 for every case; JPEG decoders of other libjpeg-turbo builds may round an IDCT differently.
      assert.ok(max <= (c.file.endsWith('.jpg') ? 1 : 0), `${c.file}: max difference ${max}`);
    });
  } else {
    test(`${c.file} (${c.what}) is refused naming the file and why (Pillow: ${c.pil_error!.split(':')[0]})`, async () => {
      await assert.rejects(decodeImage(join(DIR, c.file)), (e: unknown) => {
        assert.ok(e instanceof ImageDecodeError);
        assert.equal(e.file, join(DIR, c.file));
        assert.match(e.message, REFUSED[c.file]!);
        return true;
      });
    });
  }
}

test('every case the generator wrote is covered, and the 16-bit grey PNG is clipped as Pillow clips it', async () => {
  assert.deepEqual(
    cases
      .filter((c) => !c.rgb)
      .map((c) => c.file)
      .sort(),
    Object.keys(REFUSED).sort(),
  );
  const grey = await decodeImage(join(DIR, 'grey16.png'));
  // the stored 16-bit values are mostly above 255: Pillow (mode 'I' -> 'RGB') saturates them to white
  const white = grey.data.filter((v) => v === 255).length / grey.data.length;
  assert.ok(white > 0.9, `${white}`);
});

test('EXIF orientation is left as Pillow leaves it; autoOrient applies it', async () => {
  const file = join(DIR, 'exif-rotate-90.jpg');
  const asStored = await decodeImage(file);
  assert.deepEqual([asStored.width, asStored.height], [24, 16]);
  const rotated = await decodeImage(file, { autoOrient: true });
  assert.deepEqual([rotated.width, rotated.height], [16, 24]);
  // the red block of the stored top-left corner is top-right after a 90° clockwise turn
  const px = (img: typeof rotated, x: number, y: number): number[] => [
    ...img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3),
  ];
  assert.ok(px(asStored, 0, 0)[0]! > 200 && px(asStored, 0, 0)[1]! < 60);
  assert.ok(px(rotated, 15, 0)[0]! > 200 && px(rotated, 15, 0)[1]! < 60);
});

test('data inspect names the HTML page; the pipeline reports every refused file as a named bad row', async () => {
  const html = probeImage(join(DIR, 'error-page.jpg'));
  assert.deepEqual(html, {
    ok: false,
    reason: 'unknown-format',
    detail: 'an HTML page (a saved error or login page?), not an image',
  });
  const encoder = new PostEncoder(
    Tokenizer.fromModelDir(join(GOLDEN, 'models', 'bert')),
    loadImageProcessorConfig(join(GOLDEN, 'models', 'vit')),
    { labelNames: ['a', 'b'] },
  );
  const rows: Row[] = cases.map((c, i) => ({ id: c.file, text: `post ${i}`, image: join(DIR, c.file), label: 'a' }));
  const r = await validateRowsDecoding(rows, encoder, { onBadRow: 'skip' });
  assert.deepEqual(
    r.rows.map((x) => x.id).sort(),
    cases
      .filter((c) => c.rgb)
      .map((c) => c.file)
      .sort(),
  );
  assert.deepEqual(
    r.bad.map((b) => [b.id, b.reason]).sort(),
    Object.keys(REFUSED)
      .sort()
      .map((f) => [f, 'unreadable-image']),
  );
  const detail = Object.fromEntries(r.bad.map((b) => [b.id, b.detail]));
  assert.match(detail['truncated.jpg']!, /truncated/);
  assert.match(detail['error-page.jpg']!, /HTML page/);
  assert.match(detail['huge.png']!, /20000x20000/);
  assert.match(detail['empty.jpg']!, /empty/);
});
