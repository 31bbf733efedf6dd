// Image resizing that gives the same bytes as torchvision's `resize(uint8 tensor, antialias=True)` on the CPU,
// which the torchvision backend of Hugging Face image processors (the default since transformers 5) uses.
// PyTorch's native uint8 kernel follows Pillow's separable scheme but stores weights as int16 with a precision
// chosen per axis from the largest weight, so results differ from Pillow by a level here and there.
import { checkImage, type PixelImage } from './image.js';
import { resampleColumns, resampleRows, type Windows } from './resample-passes.js';

export type TorchResample = 'nearest' | 'bilinear' | 'bicubic';

function triangle(x: number): number {
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
}

function cubic(x: number): number {
  // PyTorch's antialiasing cubic uses a = -0.5 as Pillow does (not -0.75 as its non-antialiased bicubic).
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

function coefficients(inSize: number, outSize: number, mode: 'bilinear' | 'bicubic'): Windows {
  const interpSize = mode === 'bilinear' ? 2 : 4;
  const fn = mode === 'bilinear' ? triangle : cubic;
  const scale = inSize / outSize;
  const support = scale >= 1 ? interpSize * 0.5 * scale : interpSize * 0.5;
  const ksize = Math.ceil(support) * 2 + 1;
  const invscale = scale >= 1 ? 1 / scale : 1;
  const bounds = new Int32Array(outSize * 2);
  const real = new Float64Array(outSize * ksize);
  let wmax = 0;
  for (let i = 0; i < outSize; i++) {
    const center = scale * (i + 0.5);
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.min(Math.trunc(center + support + 0.5), inSize) - xmin, ksize);
    let total = 0;
    for (let j = 0; j < n; j++) {
      const w = fn((j + xmin - center + 0.5) * invscale);
      real[i * ksize + j] = w;
      total += w;
    }
    if (total !== 0) {
      for (let j = 0; j < n; j++) {
        const w = real[i * ksize + j]! / total;
        real[i * ksize + j] = w;
        if (w > wmax) wmax = w;
      }
    }
    bounds[i * 2] = xmin;
    bounds[i * 2 + 1] = n;
  }
  // The most fractional bits that keep the largest weight below 2^15 (the weights are int16).
  let precision = 0;
  for (; precision < 22; precision++) {
    if (Math.trunc(0.5 + wmax * 2 ** (precision + 1)) >= 1 << 15) break;
  }
  const weights = new Int32Array(outSize * ksize);
  for (let k = 0; k < real.length; k++) {
    const v = real[k]! * 2 ** precision;
    weights[k] = v < 0 ? Math.trunc(-0.5 + v) : Math.trunc(0.5 + v);
  }
  return { bounds, weights, ksize, precision };
}

/** torch's 'nearest-exact' (what transformers maps PIL NEAREST to): source index floor((i + 0.5) * in/out). */
function nearestExact(src: PixelImage, width: number, height: number): PixelImage {
  const ch = src.channels;
  // PyTorch computes the scale and the source position in float32.
  const index = (i: number, inSize: number, outSize: number): number =>
    Math.min(Math.floor(Math.fround((i + 0.5) * Math.fround(inSize / outSize))), inSize - 1);
  const out = new Uint8Array(width * height * ch);
  for (let y = 0; y < height; y++) {
    const sy = index(y, src.height, height);
    for (let x = 0; x < width; x++) {
      const sx = index(x, src.width, width);
      for (let b = 0; b < ch; b++) out[(y * width + x) * ch + b] = src.data[(sy * src.width + sx) * ch + b]!;
    }
  }
  return { width, height, channels: ch, data: out };
}

/** Resizes an 8-bit image as torchvision's antialiased resize of a uint8 tensor on the CPU. */
export function resizeTorchvision(src: PixelImage, width: number, height: number, mode: TorchResample): PixelImage {
  checkImage(src, 'resize input');
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`resize: target size must be positive integers, got ${width}x${height}`);
  }
  if (mode === 'nearest') return nearestExact(src, width, height);
  let img = src;
  if (width !== src.width) img = resampleRows(img, 0, img.height, width, coefficients(src.width, width, mode));
  if (height !== src.height) img = resampleColumns(img, height, coefficients(src.height, height, mode), 0);
  return img === src ? { ...src, data: src.data.slice() } : img;
}
