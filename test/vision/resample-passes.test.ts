// The resize passes of native/image/resample.cc against their JavaScript reference (resample-passes.ts), byte
// for byte: random images of 1 to 4 channels, random windows and fixed-point weights (negative lobes, every
// precision the two resamplers use, sums that wrap modulo 2^32), a subset of rows and a shifted first row as
// Pillow's resize passes them; and the native side's refusal of windows that would read outside the image.
// resample.test.ts and the processor tests check the resizes themselves against Pillow and torchvision.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PixelImage } from '../../src/vision/image.js';
import { imageAddon } from '../../src/vision/native-image.js';
import {
  resampleColumns,
  resampleColumnsJs,
  resampleRows,
  resampleRowsJs,
  type Windows,
} from '../../src/vision/resample-passes.js';

let seed = 12345;
function rand(n: number): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
}

function image(width: number, height: number, channels: number): PixelImage {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < data.length; i++) data[i] = rand(256);
  return { width, height, channels, data };
}

/** Windows over `inSize` input positions from `shift` on; weights up to 2^precision, some negative. */
function windows(inSize: number, outSize: number, precision: number, shift = 0, huge = false): Windows {
  const ksize = 1 + rand(9);
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const top = 2 ** precision;
  for (let o = 0; o < outSize; o++) {
    const n = 1 + rand(Math.min(ksize, inSize));
    bounds[o * 2] = shift + rand(inSize - n + 1);
    bounds[o * 2 + 1] = n;
    for (let j = 0; j < n; j++) {
      // huge: weights near 2^30, so that 255 * weight sums pass 2^31 and wrap
      const w = huge ? 2 ** 30 - rand(1000) : rand(top) - (rand(4) === 0 ? top / 2 : 0);
      weights[o * ksize + j] = w;
    }
  }
  return { bounds, weights, ksize, precision };
}

function equalBytes(a: Uint8Array, b: Uint8Array, what: string): void {
  assert.equal(a.length, b.length, what);
  let first = -1;
  for (let i = 0; i < a.length && first < 0; i++) if (a[i] !== b[i]) first = i;
  assert.equal(first, -1, `${what}: first difference at byte ${first}`);
}

test('this build runs the resize passes natively', () => {
  assert.ok(imageAddon, 'build/Release/tandem_image.node is not built');
});

test('native resize passes give the JavaScript reference bytes (300 random cases)', () => {
  for (let k = 0; k < 300; k++) {
    const channels = 1 + rand(4);
    const width = 1 + rand(40);
    const height = 1 + rand(40);
    const src = image(width, height, channels);
    const precision = [14, 15, 16, 20, 22][rand(5)]!;
    const huge = k % 25 === 0;
    const what = `case ${k}: ${width}x${height}x${channels}, precision ${huge ? 30 : precision}`;
    // horizontal, over a subset of the rows
    const firstRow = rand(height);
    const rows = 1 + rand(height - firstRow);
    const outWidth = 1 + rand(50);
    const h = windows(width, outWidth, huge ? 30 : precision, 0, huge);
    equalBytes(
      resampleRows(src, firstRow, rows, outWidth, h).data,
      resampleRowsJs(src, firstRow, rows, outWidth, h).data,
      `${what}, rows ${firstRow}+${rows} -> width ${outWidth}`,
    );
    // vertical, the image's first row being input row `shift`
    const shift = rand(5);
    const outHeight = 1 + rand(50);
    const v = windows(height, outHeight, huge ? 30 : precision, shift, huge);
    equalBytes(
      resampleColumns(src, outHeight, v, shift).data,
      resampleColumnsJs(src, outHeight, v, shift).data,
      `${what}, shift ${shift} -> height ${outHeight}`,
    );
  }
});

test('the native passes refuse windows and sizes that would read outside the image', () => {
  const addon = imageAddon!;
  const src = image(8, 6, 3);
  const ok = windows(8, 4, 22);
  const bad = { ...ok, bounds: Int32Array.from(ok.bounds) };
  bad.bounds[2] = 8; // the second output's window starts past the last column
  assert.throws(
    () => addon.resampleRows(src.data, 8, 3, 0, 6, 4, bad.bounds, bad.weights, bad.ksize, 22),
    /window reads outside the input/,
  );
  assert.throws(
    () => addon.resampleRows(src.data, 8, 3, 4, 3, 4, ok.bounds, ok.weights, ok.ksize, 22),
    /src is shorter than the rows/,
  );
  const up = windows(6, 4, 22);
  up.bounds[0] = 0; // read from row 0, which a shift of 1 puts before the image
  assert.throws(
    () => addon.resampleColumns(src.data, 8, 3, 6, 4, up.bounds, up.weights, up.ksize, 22, 1),
    /window reads outside the input/,
  );
  assert.throws(
    () => addon.resampleColumns(src.data, 8, 3, 6, 4, up.bounds, up.weights.subarray(0, 3), up.ksize, 22, 0),
    /shorter than the output needs/,
  );
  assert.throws(
    () => addon.resampleRows(src.data, 8, 3, 0, 6, 4, ok.bounds, ok.weights, ok.ksize, 40),
    /precision must be an integer from 1 to 31/,
  );
});
