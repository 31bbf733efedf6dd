// The two passes of a separable 8-bit resize, shared by Pillow's resize (resample.ts) and torchvision's
// antialiased uint8 resize (resample-torch.ts), which differ only in how they compute each output's window
// and fixed-point weights. Each output sample is (2^(p-1) + sum of input * weight) >> p, clipped to 0..255.
// Written here in JavaScript, the reference; native/image/resample.cc runs the same loops where built (the
// same bytes, test/vision/resample-passes.test.ts; about 6x faster, which matters for photos: resizing a
// 480 px image to ViLT's 384 took 13-22 ms here, 4-5 natively).
import type { PixelImage } from './image.js';
import { imageAddon } from './native-image.js';

/** Per output index: the first input index and the tap count (bounds), and ksize weights with p fraction bits. */
export interface Windows {
  bounds: Int32Array;
  weights: Int32Array;
  ksize: number;
  precision: number;
}

function clip(acc: number, precision: number): number {
  const v = acc >> precision;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/** The horizontal pass, in JavaScript, over `rows` rows from `firstRow`. */
export function resampleRowsJs(
  src: PixelImage,
  firstRow: number,
  rows: number,
  outWidth: number,
  w: Windows,
): PixelImage {
  const ch = src.channels;
  const out = new Uint8Array(outWidth * rows * ch);
  const half = 1 << (w.precision - 1);
  for (let yy = 0; yy < rows; yy++) {
    const rowIn = (yy + firstRow) * src.width * ch;
    const rowOut = yy * outWidth * ch;
    for (let xx = 0; xx < outWidth; xx++) {
      const xmin = w.bounds[xx * 2]!;
      const n = w.bounds[xx * 2 + 1]!;
      const kBase = xx * w.ksize;
      if (ch === 3) {
        // RGB, the common case: the three sums in one pass over the window.
        let r = half;
        let g = half;
        let bl = half;
        for (let x = 0; x < n; x++) {
          const k = w.weights[kBase + x]!;
          const p = rowIn + (x + xmin) * 3;
          r += src.data[p]! * k;
          g += src.data[p + 1]! * k;
          bl += src.data[p + 2]! * k;
        }
        const o = rowOut + xx * 3;
        out[o] = clip(r, w.precision);
        out[o + 1] = clip(g, w.precision);
        out[o + 2] = clip(bl, w.precision);
        continue;
      }
      for (let b = 0; b < ch; b++) {
        let acc = half;
        for (let x = 0; x < n; x++) acc += src.data[rowIn + (x + xmin) * ch + b]! * w.weights[kBase + x]!;
        out[rowOut + xx * ch + b] = clip(acc, w.precision);
      }
    }
  }
  return { width: outWidth, height: rows, channels: ch, data: out };
}

/** The vertical pass, in JavaScript; the image's first row is input row `rowShift`. */
export function resampleColumnsJs(src: PixelImage, outHeight: number, w: Windows, rowShift: number): PixelImage {
  const stride = src.width * src.channels;
  const out = new Uint8Array(outHeight * stride);
  const half = 1 << (w.precision - 1);
  for (let yy = 0; yy < outHeight; yy++) {
    const ymin = w.bounds[yy * 2]! - rowShift;
    const n = w.bounds[yy * 2 + 1]!;
    const kBase = yy * w.ksize;
    for (let i = 0; i < stride; i++) {
      let acc = half;
      for (let y = 0; y < n; y++) acc += src.data[(y + ymin) * stride + i]! * w.weights[kBase + y]!;
      out[yy * stride + i] = clip(acc, w.precision);
    }
  }
  return { width: src.width, height: outHeight, channels: src.channels, data: out };
}

/** The horizontal pass over `rows` rows from `firstRow` (native where built). */
export function resampleRows(
  src: PixelImage,
  firstRow: number,
  rows: number,
  outWidth: number,
  w: Windows,
): PixelImage {
  if (!imageAddon) return resampleRowsJs(src, firstRow, rows, outWidth, w);
  const data = imageAddon.resampleRows(
    src.data,
    src.width,
    src.channels,
    firstRow,
    rows,
    outWidth,
    w.bounds,
    w.weights,
    w.ksize,
    w.precision,
  );
  return { width: outWidth, height: rows, channels: src.channels, data };
}

/** The vertical pass; the image's first row is input row `rowShift` (native where built). */
export function resampleColumns(src: PixelImage, outHeight: number, w: Windows, rowShift: number): PixelImage {
  if (!imageAddon) return resampleColumnsJs(src, outHeight, w, rowShift);
  const data = imageAddon.resampleColumns(
    src.data,
    src.width,
    src.channels,
    src.height,
    outHeight,
    w.bounds,
    w.weights,
    w.ksize,
    w.precision,
    rowShift,
  );
  return { width: src.width, height: outHeight, channels: src.channels, data };
}
