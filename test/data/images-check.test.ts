import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { probeImage } from '../../src/data/images-check.js';
import { GOLDEN } from '../helpers/cli.js';
import { put, tempDir, tinyPng } from './helpers.js';

test('reads format and size of the golden JPEGs and PNGs as PIL reports them', () => {
  const ref = JSON.parse(readFileSync(join(GOLDEN, 'images', 'image_reference.json'), 'utf8')).images as Record<
    string,
    { size: [number, number] }
  >;
  for (const [name, { size }] of Object.entries(ref)) {
    const p = probeImage(join(GOLDEN, 'images', name));
    assert.deepEqual(
      p,
      { ok: true, format: name.endsWith('.png') ? 'png' : 'jpeg', width: size[0], height: size[1] },
      name,
    );
  }
});

test('reads GIF, BMP, WebP (VP8, VP8L, VP8X) and TIFF headers', () => {
  const dir = tempDir();
  const gif = Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.from([7, 0, 5, 0, 0, 0, 0])]);
  const bmp = Buffer.alloc(54);
  bmp.write('BM', 0, 'latin1');
  bmp.writeUInt32LE(40, 14);
  bmp.writeInt32LE(300, 18);
  bmp.writeInt32LE(-200, 22); // top-down
  const riff = (chunk: string, body: number[]): Buffer => {
    const b = Buffer.alloc(40);
    b.write('RIFF', 0, 'latin1');
    b.write('WEBP', 8, 'latin1');
    b.write(chunk, 12, 'latin1');
    Buffer.from(body).copy(b, 20);
    return b;
  };
  // VP8: 3-byte frame tag, start code, 14-bit width 640 and height 480
  const vp8 = riff('VP8 ', [0, 0, 0, 0x9d, 0x01, 0x2a, 640 & 255, 640 >> 8, 480 & 255, 480 >> 8]);
  // VP8L: signature 0x2f, then width-1 = 99 and height-1 = 49 packed in 14-bit fields
  const w = 99;
  const h = 49;
  const vp8l = riff('VP8L', [0x2f, w & 0xff, ((w >> 8) & 0x3f) | ((h & 0x3) << 6), (h >> 2) & 0xff, (h >> 10) & 0xf]);
  // VP8X: flags + reserved (4 bytes), then 24-bit width-1 and height-1
  const vp8x = riff('VP8X', [0, 0, 0, 0, 0xff, 0x03, 0, 0x1f, 0x02, 0]);
  const tiff = Buffer.alloc(8 + 2 + 24);
  tiff.write('II*\0', 0, 'latin1');
  tiff.writeUInt32LE(8, 4);
  tiff.writeUInt16LE(2, 8);
  tiff.writeUInt16LE(256, 10);
  tiff.writeUInt16LE(3, 12);
  tiff.writeUInt32LE(1, 14);
  tiff.writeUInt16LE(123, 18);
  tiff.writeUInt16LE(257, 22);
  tiff.writeUInt16LE(4, 24);
  tiff.writeUInt32LE(1, 26);
  tiff.writeUInt32LE(77, 30);
  const cases: [string, Buffer, unknown][] = [
    ['a.gif', gif, { ok: true, format: 'gif', width: 7, height: 5 }],
    ['a.bmp', bmp, { ok: true, format: 'bmp', width: 300, height: 200 }],
    ['a.webp', vp8, { ok: true, format: 'webp', width: 640, height: 480 }],
    ['b.webp', vp8l, { ok: true, format: 'webp', width: 100, height: 50 }],
    ['c.webp', vp8x, { ok: true, format: 'webp', width: 1024, height: 544 }],
    ['a.tif', tiff, { ok: true, format: 'tiff', width: 123, height: 77 }],
    ['p.png', tinyPng(9, 2), { ok: true, format: 'png', width: 9, height: 2 }],
  ];
  for (const [name, bytes, want] of cases) assert.deepEqual(probeImage(put(join(dir, name), bytes)), want, name);
});

test('reports missing, empty, non-image and truncated files', () => {
  const dir = tempDir();
  assert.equal((probeImage(join(dir, 'nope.jpg')) as { reason: string }).reason, 'missing');
  assert.deepEqual(probeImage(put(join(dir, 'empty.jpg'), '')), { ok: false, reason: 'empty', detail: '0 bytes' });
  assert.equal(
    (probeImage(put(join(dir, 'html.jpg'), '<html>not found</html>')) as { reason: string }).reason,
    'unknown-format',
  );
  const jpeg = readFileSync(join(GOLDEN, 'images', 'a.jpg'));
  const cut = probeImage(put(join(dir, 'cut.jpg'), jpeg.subarray(0, 30)));
  assert.equal(cut.ok, false);
  assert.equal((cut as { reason: string }).reason, 'bad-header');
  assert.equal(
    (probeImage(put(join(dir, 'cut.png'), tinyPng(4, 4).subarray(0, 12))) as { reason: string }).reason,
    'bad-header',
  );
});
