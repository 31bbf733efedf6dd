// The in-process PNG/JPEG decoder (native/image over libpng and libjpeg-turbo) against the sharp path and
// Pillow: the same bytes for every variant it takes (test/fixtures/images-codecs, written by
// test/tools/gen_codec_variants.py: each JPEG sampling factor, progressive, arithmetic, restarts, grey, RGB;
// PNG colour types and bit depths, transparency, gamma, interlacing), the images-edge cases against Pillow's
// output, and null (so that sharp decides, or names the error) for what it must not take: 16-bit PNGs,
// CMYK/YCCK JPEGs, truncated or corrupt data, images over the pixel limit. Decoding runs off the main thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage, ImageDecodeError } from '../../src/vision/decode.js';
import { decodeInProcess, inProcessDecoder } from '../../src/vision/native-image.js';
import { REPO_ROOT } from '../helpers/cli.js';

const VARIANTS = join(REPO_ROOT, 'test', 'fixtures', 'images-codecs');
const EDGE = join(REPO_ROOT, 'test', 'fixtures', 'images-edge');
const LIMIT = 89_478_485;

function differing(a: Uint8Array, b: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

test('this build decodes PNGs and JPEGs in the process', () => {
  console.log(`in-process decoder: ${inProcessDecoder}`);
  assert.match(inProcessDecoder ?? '', /libjpeg-turbo .*libpng 1\.6/);
});

const variants = readdirSync(VARIANTS).filter((f) => /\.(png|jpg)$/.test(f));
test('the fixture folder holds every variant the generator writes', () => {
  assert.equal(variants.filter((f) => f.endsWith('.jpg')).length, 21);
  assert.equal(variants.filter((f) => f.endsWith('.png')).length, 22);
});

for (const file of variants) {
  test(`${file}: decoded in the process to the sharp path's bytes`, async () => {
    const bytes = readFileSync(join(VARIANTS, file));
    const mine = await decodeInProcess(bytes, LIMIT);
    assert.ok(mine, `${file} was left to sharp`);
    // decode.ts's sharp branch for PNGs and JPEGs (its output is checked against Pillow in edge-cases.test.ts)
    const { data, info } = await sharp(bytes, { failOn: 'error', ignoreIcc: true })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    assert.deepEqual([mine.width, mine.height, 3], [info.width, info.height, info.channels]);
    assert.equal(mine.data.length, data.length);
    assert.equal(differing(mine.data, data), 0);
  });
}

// The images-edge cases with Pillow's pixels: those the in-process decoder takes must match them exactly.
const TAKEN = [
  'baseline.jpg',
  'progressive.jpg',
  'exif-rotate-90.jpg',
  'rgba.png',
  'grey-alpha.png',
  'palette-transparent.png',
];
const LEFT = [
  'cmyk.jpg',
  'ycck.jpg',
  'grey16.png',
  'rgb16.png',
  'rgba16.png',
  'truncated.jpg',
  'empty.jpg',
  'error-page.jpg',
];
for (const file of TAKEN)
  test(`${file}: decoded in the process to Pillow's convert('RGB') bytes`, async () => {
    const img = await decodeInProcess(readFileSync(join(EDGE, file)), LIMIT);
    assert.ok(img, `${file} was left to sharp`);
    assert.equal(differing(img.data, readFileSync(join(EDGE, `${file}.rgb`))), 0);
  });
test(`left to sharp: ${LEFT.join(', ')}`, async () => {
  for (const file of LEFT) assert.equal(await decodeInProcess(readFileSync(join(EDGE, file)), LIMIT), null, file);
});

test('truncated and corrupt files are left to sharp, never patched with grey rows', async () => {
  for (const file of ['baseline-2x2.jpg', 'progressive-2x1.jpg', 'interlaced-rgb.png', 'palette4.png']) {
    const bytes = readFileSync(join(VARIANTS, file));
    for (const keep of [0.2, 0.5, 0.8, 0.95]) {
      const cut = bytes.subarray(0, Math.floor(bytes.length * keep));
      assert.equal(await decodeInProcess(cut, LIMIT), null, `${file} cut to ${cut.length} of ${bytes.length} bytes`);
    }
  }
  // One byte changed inside the PNG's image data: its CRC no longer matches.
  const png = Buffer.from(readFileSync(join(VARIANTS, 'interlaced-rgba.png')));
  png[png.indexOf('IDAT') + 20]! ^= 0x40;
  assert.equal(await decodeInProcess(png, LIMIT), null);
  // A bad CRC on an ancillary chunk is only a warning to libpng, which would skip the chunk and go on.
  const gamma = Buffer.from(readFileSync(join(VARIANTS, 'rgb8-gamma.png')));
  gamma[gamma.indexOf('gAMA') + 8]! ^= 0x01;
  assert.equal(await decodeInProcess(gamma, LIMIT), null);
  // Through decodeImage, the truncated JPEG is still refused with sharp's words.
  const jpeg = readFileSync(join(VARIANTS, 'baseline-2x2.jpg'));
  await assert.rejects(decodeImage(jpeg.subarray(0, jpeg.length - 40), { name: 'post.jpg' }), (e: unknown) => {
    assert.ok(e instanceof ImageDecodeError);
    assert.match(e.message, /^post\.jpg: truncated jpeg file: .*premature end of JPEG/i);
    return true;
  });
});

test("the pixel limit is the caller's: one pixel over it is left to sharp", async () => {
  const bytes = readFileSync(join(VARIANTS, 'baseline-1x1.jpg'));
  const png = readFileSync(join(VARIANTS, 'grey4.png'));
  assert.ok(await decodeInProcess(bytes, 61 * 45));
  assert.equal(await decodeInProcess(bytes, 61 * 45 - 1), null);
  assert.ok(await decodeInProcess(png, 13 * 7));
  assert.equal(await decodeInProcess(png, 13 * 7 - 1), null);
});

test('decoding runs off the main thread: timers keep firing while a large JPEG decodes', async () => {
  const w = 3000;
  const h = 2000;
  const raw = Buffer.alloc(w * h * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24;
  const jpeg = await sharp(raw, { raw: { width: w, height: h, channels: 3 } })
    .jpeg({ quality: 95 })
    .toBuffer();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const t0 = performance.now();
  const img = await decodeInProcess(jpeg, LIMIT);
  const ms = performance.now() - t0;
  clearInterval(timer);
  console.log(`3000x2000 JPEG decoded in ${ms.toFixed(1)} ms; the timer fired ${ticks} times meanwhile`);
  assert.ok(img);
  assert.deepEqual([img.width, img.height], [w, h]);
  assert.ok(ticks >= 3, `the event loop was blocked: ${ticks} timer ticks in ${ms.toFixed(1)} ms`);
});
