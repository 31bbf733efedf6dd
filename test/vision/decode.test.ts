// Decoding through sharp: formats, EXIF orientation, alpha, grey and CMYK, and the errors for bad files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { cmykToRgb, decodeImage, ImageDecodeError } from '../../src/vision/decode.js';
import { GOLDEN } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'tandem-decode-'));

/** A 6x4 RGB test card: four flat quadrants (red, green, blue, white) so lossy codecs keep the colours. */
function card(): Buffer {
  const w = 6;
  const h = 4;
  const px = Buffer.alloc(w * h * 3);
  const colours = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [255, 255, 255],
  ];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) px.set(colours[(y < h / 2 ? 0 : 2) + (x < w / 2 ? 0 : 1)]!, (y * w + x) * 3);
  }
  return px;
}
const RAW = { raw: { width: 6, height: 4, channels: 3 as const } };

function meanDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

test('lossless formats decode exactly: PNG, WebP (lossless), TIFF', async () => {
  const px = card();
  for (const [ext, encode] of [
    ['png', (s: sharp.Sharp) => s.png()],
    ['webp', (s: sharp.Sharp) => s.webp({ lossless: true })],
    ['tiff', (s: sharp.Sharp) => s.tiff({ compression: 'lzw' })],
  ] as const) {
    const file = join(tmp, `card.${ext}`);
    await encode(sharp(px, RAW)).toFile(file);
    const img = await decodeImage(file);
    assert.deepEqual([img.width, img.height], [6, 4], ext);
    assert.deepEqual(Buffer.from(img.data), px, ext);
  }
});

test('AVIF and JPEG decode close to the source colours', async () => {
  const px = card();
  for (const [ext, encode] of [
    ['avif', (s: sharp.Sharp) => s.avif({ quality: 100, chromaSubsampling: '4:4:4' })],
    ['jpg', (s: sharp.Sharp) => s.jpeg({ quality: 100, chromaSubsampling: '4:4:4' })],
  ] as const) {
    const file = join(tmp, `card.${ext}`);
    await encode(sharp(px, RAW)).toFile(file);
    const img = await decodeImage(file);
    assert.deepEqual([img.width, img.height], [6, 4], ext);
    const d = meanDiff(img.data, px);
    assert.ok(d < 12, `${ext}: mean diff ${d}`);
  }
});

test('GIF: the first frame of an animation', async () => {
  const red = await sharp({ create: { width: 5, height: 3, channels: 3, background: { r: 255, g: 0, b: 0 } } })
    .png()
    .toBuffer();
  const blue = await sharp({ create: { width: 5, height: 3, channels: 3, background: { r: 0, g: 0, b: 255 } } })
    .png()
    .toBuffer();
  const file = join(tmp, 'anim.gif');
  await sharp([red, blue], { join: { animated: true } })
    .gif()
    .toFile(file);
  const meta = await sharp(file).metadata();
  assert.equal(meta.pages, 2);
  const img = await decodeImage(file);
  assert.deepEqual([img.width, img.height], [5, 3]);
  for (let i = 0; i < 15; i++) assert.deepEqual([...img.data.subarray(i * 3, i * 3 + 3)], [255, 0, 0]);
});

test('EXIF orientation: left as stored by default (as Pillow), applied with autoOrient (6: 90° clockwise)', async () => {
  const file = join(tmp, 'rotated.jpg');
  await sharp(card(), RAW)
    .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
    .withMetadata({ orientation: 6 })
    .toFile(file);
  const img = await decodeImage(file, { autoOrient: true });
  assert.deepEqual([img.width, img.height], [4, 6]);
  // Top-left of the rotated image is the source's bottom-left quadrant (blue); top-right is red.
  const at = (x: number, y: number): number[] => [...img.data.subarray((y * 4 + x) * 3, (y * 4 + x) * 3 + 3)];
  assert.ok(at(0, 0)[2]! > 200 && at(0, 0)[0]! < 60, `top-left ${at(0, 0)}`);
  assert.ok(at(3, 0)[0]! > 200 && at(3, 0)[2]! < 60, `top-right ${at(3, 0)}`);
  const raw = await decodeImage(file);
  assert.deepEqual([raw.width, raw.height], [6, 4]);
});

test('RGBA: alpha dropped by default (as the reference), composited over a background on request', async () => {
  const file = join(GOLDEN, 'images', 'c.png');
  const { data: rgba } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  const dropped = await decodeImage(file);
  const onWhite = await decodeImage(file, { background: [255, 255, 255] });
  let transparent = 0;
  let maxErr = 0;
  for (let i = 0; i < 50 * 50; i++) {
    const a = rgba[i * 4 + 3]!;
    if (a < 255) transparent++;
    for (let c = 0; c < 3; c++) {
      const v = rgba[i * 4 + c]!;
      assert.equal(dropped.data[i * 3 + c], v);
      maxErr = Math.max(maxErr, Math.abs(onWhite.data[i * 3 + c]! - (v * a + 255 * (255 - a)) / 255));
    }
  }
  assert.ok(transparent > 100, `${transparent} transparent pixels`);
  assert.ok(maxErr <= 1, `composite off by ${maxErr}`);
});

test('grey (with and without alpha) becomes three equal channels; CMYK becomes RGB as Pillow converts it', async () => {
  const grey = Buffer.from([0, 50, 100, 150, 200, 250]);
  const g = join(tmp, 'grey.png');
  await sharp(grey, { raw: { width: 3, height: 2, channels: 1 } })
    .png()
    .toFile(g);
  const ga = join(tmp, 'grey-alpha.png');
  const ga2 = Buffer.from([0, 0, 50, 60, 100, 120, 150, 180, 200, 240, 250, 255]);
  await sharp(ga2, { raw: { width: 3, height: 2, channels: 2 } })
    .png()
    .toFile(ga);
  for (const f of [g, ga]) {
    const img = await decodeImage(f);
    assert.deepEqual(
      [...img.data],
      [...grey].flatMap((v) => [v, v, v]),
      f,
    );
  }
  const cmyk = join(tmp, 'cmyk.jpg');
  await sharp(card(), RAW).toColourspace('cmyk').jpeg({ quality: 100 }).toFile(cmyk);
  assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
  const img = await decodeImage(cmyk);
  assert.deepEqual([img.width, img.height, img.data.length], [6, 4, 72]);
  // Pillow's naive conversion keeps pure red pure red (an ICC conversion would not).
  assert.deepEqual([...img.data.subarray(0, 3)], [255, 0, 0]);
  const managed = await decodeImage(cmyk, { colourManage: true });
  assert.notDeepEqual([...managed.data.subarray(0, 3)], [255, 0, 0]);
});

test("cmykToRgb is Pillow's (255 - K) * (255 - C) / 255 with its rounding", () => {
  const cmyk = Uint8Array.from([0, 255, 255, 0, 0, 0, 0, 255, 128, 0, 255, 64, 10, 20, 30, 40]);
  // 191 - round(128 * 191 / 255) = 95; 215 - round(10 * 215 / 255) = 207, 215 - 17 = 198, 215 - 25 = 190
  assert.deepEqual([...cmykToRgb(cmyk)], [255, 0, 0, 0, 0, 0, 95, 191, 0, 207, 198, 190]);
});

test('embedded ICC profiles are ignored as Pillow ignores them, unless colour management is asked for', async () => {
  const px = Buffer.from(Array.from({ length: 72 }, (_, i) => (i * 37) % 256));
  const file = join(tmp, 'p3.png');
  await sharp(px, RAW).withIccProfile('p3').png().toFile(file);
  assert.equal((await sharp(file).metadata()).hasProfile, true);
  const stored = (await sharp(file, { ignoreIcc: true }).removeAlpha().raw().toBuffer()).subarray(0, 72);
  assert.deepEqual(Buffer.from((await decodeImage(file)).data), stored);
  assert.notDeepEqual(Buffer.from((await decodeImage(file, { colourManage: true })).data), stored);
});

async function rejects(input: string, pattern: RegExp, opts = {}): Promise<void> {
  await assert.rejects(decodeImage(input, opts), (e: unknown) => {
    assert.ok(e instanceof ImageDecodeError, String(e));
    assert.equal(e.file, input);
    assert.ok(e.message.startsWith(`${input}: `), e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

/** A valid PNG header claiming 100000 x 100000 pixels with almost no data: a decompression bomb. */
function pngBomb(): Buffer {
  const chunk = (type: string, body: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    const tb = Buffer.concat([Buffer.from(type, 'ascii'), body]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(tb));
    return Buffer.concat([len, tb, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(100_000, 0);
  ihdr.writeUInt32BE(100_000, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.alloc(1000))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

test('bad files give an ImageDecodeError naming the file', async () => {
  const a = readFileSync(join(GOLDEN, 'images', 'a.jpg'));
  const b = readFileSync(join(GOLDEN, 'images', 'b.png'));
  const files: Record<string, Buffer> = {
    'empty.jpg': Buffer.alloc(0),
    'truncated.jpg': a.subarray(0, a.length >> 1),
    'truncated.png': b.subarray(0, b.length >> 1),
    'garbage.png': Buffer.from('this is not an image at all, just text'),
    'bomb.png': pngBomb(),
  };
  // Flip bytes inside the compressed data of a PNG: zlib or CRC checks fail.
  const corrupt = Buffer.from(b);
  for (let i = 60; i < 90; i++) corrupt[i] = corrupt[i]! ^ 0x5a;
  files['corrupt.png'] = corrupt;
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(tmp, name), bytes);
  await rejects(join(tmp, 'empty.jpg'), /empty file \(0 bytes\)/);
  await rejects(join(tmp, 'truncated.jpg'), /truncated jpeg file: .*premature end/i);
  await rejects(join(tmp, 'truncated.png'), /cannot decode png/);
  await rejects(join(tmp, 'garbage.png'), /garbage.png: a text file, not an image/);
  await rejects(join(tmp, 'corrupt.png'), /cannot decode png|not a readable image/);
  await rejects(
    join(tmp, 'bomb.png'),
    /100000x100000 = 10000000000 pixels, over the limit of 89478485 .*decompression bomb/,
  );
  await rejects(join(tmp, 'missing.png'), /cannot read image: ENOENT/);
  await rejects(join(GOLDEN, 'images', 'a.jpg'), /64x48 = 3072 pixels, over the limit of 3000/, { maxPixels: 3000 });
  assert.equal((await decodeImage(join(GOLDEN, 'images', 'a.jpg'), { maxPixels: 3072 })).width, 64);
});

test('bytes in memory decode too, errors then carry the given name', async () => {
  const img = await decodeImage(readFileSync(join(GOLDEN, 'images', 'f.png')), { name: 'upload-1' });
  assert.deepEqual([img.width, img.height], [32, 32]);
  await assert.rejects(
    decodeImage(new Uint8Array(0), { name: 'upload-2' }),
    /^ImageDecodeError: upload-2: empty file|upload-2: empty file/,
  );
});
