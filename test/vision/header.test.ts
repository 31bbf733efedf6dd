// The PNG/JPEG header reader behind decodeImage's one-call path: for every image fixture it either agrees with
// libvips' own metadata (format and size) on an image of the generic branch, or declines (16-bit grey PNG,
// CMYK/YCCK JPEG, other formats, cut-off headers), so that decodeImage asks libvips first as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { plainPngOrJpeg } from '../../src/vision/header.js';
import { REPO_ROOT } from '../helpers/cli.js';

const DIR = join(REPO_ROOT, 'test', 'fixtures', 'images-edge');

test('every edge-case image: the header agrees with libvips, or declines exactly the special branches', async () => {
  const seen = { plain: 0, declined: 0 };
  for (const file of readdirSync(DIR).filter((f) => /\.(jpg|png|gif|webp)$/.test(f))) {
    const bytes = readFileSync(join(DIR, file));
    const got = plainPngOrJpeg(bytes);
    let meta: sharp.Metadata | null = null;
    try {
      meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    } catch {
      // empty and non-image files: libvips reads no header either
    }
    const special =
      meta !== null &&
      ((meta.format === 'png' && meta.depth === 'ushort' && meta.channels === 1) || meta.space === 'cmyk');
    if (got && meta === null) {
      // truncated.jpg: its header is whole, the file not; the one-call decode fails and decodeImage falls back
      // to the full path, whose message edge-cases.test.ts checks
      assert.match(file, /^truncated/);
    } else if (got && meta) {
      seen.plain++;
      assert.deepEqual([got.format, got.width, got.height], [meta.format, meta.width, meta.height], file);
      assert.equal(special, false, `${file}: needs a special branch but the header reader took it`);
    } else {
      seen.declined++;
      if (meta && (meta.format === 'png' || meta.format === 'jpeg'))
        assert.ok(special, `${file}: a plain ${meta.format} the header reader declined`);
    }
  }
  console.log(`header reader: ${seen.plain} images read, ${seen.declined} declined`);
  assert.ok(seen.plain >= 8 && seen.declined >= 6, JSON.stringify(seen));
});

test('a JPEG whose frame header follows EXIF and other segments, and cut-off headers', async () => {
  const px = Buffer.alloc(40 * 24 * 3, 200);
  const jpeg = await sharp(px, { raw: { width: 40, height: 24, channels: 3 } })
    .withMetadata({ orientation: 6, exif: { IFD0: { ImageDescription: 'x'.repeat(300) } } })
    .jpeg()
    .toBuffer();
  assert.deepEqual(plainPngOrJpeg(jpeg), { format: 'jpeg', width: 40, height: 24 });
  const grey = await sharp(px, { raw: { width: 40, height: 24, channels: 3 } })
    .greyscale()
    .jpeg()
    .toBuffer();
  assert.deepEqual(plainPngOrJpeg(grey), { format: 'jpeg', width: 40, height: 24 });
  const png = await sharp(px, { raw: { width: 40, height: 24, channels: 3 } })
    .png()
    .toBuffer();
  assert.deepEqual(plainPngOrJpeg(png), { format: 'png', width: 40, height: 24 });
  // cut before the frame header or inside the IHDR: nothing to read
  const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]));
  assert.ok(sof > 0);
  for (const cut of [3, sof, sof + 8]) assert.equal(plainPngOrJpeg(jpeg.subarray(0, cut)), null, `JPEG cut at ${cut}`);
  for (const cut of [8, 20, 32]) assert.equal(plainPngOrJpeg(png.subarray(0, cut)), null, `PNG cut at ${cut}`);
  assert.equal(plainPngOrJpeg(Buffer.from('GIF89a....')), null);
});
