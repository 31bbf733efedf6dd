// Image resizing that gives the same bytes as Pillow's Image.resize on 8-bit images: a separable convolution,
// horizontal pass then vertical pass, each rounded back to uint8, with the filter stretched by the scale when
// downscaling (antialiasing) and coefficients in 22-bit fixed point. NEAREST follows Pillow's affine scaling.
import { checkImage, type PixelImage } from './image.js';
import { resampleColumns, resampleRows, type Windows } from './resample-passes.js';

/** Pillow's resampling codes, as `resample` in preprocessor_config.json uses them. */
export const PIL_RESAMPLE = { nearest: 0, lanczos: 1, bilinear: 2, bicubic: 3, box: 4, hamming: 5 } as const;
export type ResampleName = keyof typeof PIL_RESAMPLE;

export function resampleName(code: number): ResampleName {
  const hit = (Object.keys(PIL_RESAMPLE) as ResampleName[]).find((k) => PIL_RESAMPLE[k] === code);
  if (hit === undefined)
    throw new Error(
      `unknown resample code ${code}: expected 0 (nearest), 1 (lanczos), 2 (bilinear), 3 (bicubic), 4 (box) or 5 (hamming)`,
    );
  return hit;
}

interface Filter {
  fn(x: number): number;
  support: number;
}

const FILTERS: Record<Exclude<ResampleName, 'nearest'>, Filter> = {
  box: { fn: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0), support: 0.5 },
  bilinear: {
    fn: (x) => {
      const a = Math.abs(x);
      return a < 1 ? 1 - a : 0;
    },
    support: 1,
  },
  hamming: {
    fn: (x) => {
      const a = Math.abs(x);
      if (a === 0) return 1;
      if (a >= 1) return 0;
      const p = a * Math.PI;
      // Pillow writes the constants as C floats, so they carry float32 rounding.
      return (Math.sin(p) / p) * (Math.fround(0.54) + Math.fround(0.46) * Math.cos(p));
    },
    support: 1,
  },
  bicubic: {
    // Keys' cubic convolution with a = -0.5.
    fn: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
    support: 2,
  },
  lanczos: {
    fn: (x) => (-3 <= x && x < 3 ? sinc(x) * sinc(x / 3) : 0),
    support: 3,
  },
};

function sinc(x: number): number {
  if (x === 0) return 1;
  const p = x * Math.PI;
  return Math.sin(p) / p;
}

const PRECISION_BITS = 32 - 8 - 2;

/** Filter weights for one axis, computed in double as Pillow's precompute_coeffs, then made fixed point. */
function coefficients(inSize: number, in0: number, in1: number, outSize: number, filter: Filter): Windows {
  const scale = (in1 - in0) / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    // C's (int) cast truncates toward zero; negative values are clamped to 0 right after anyway.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.fn((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x]! / ww : k[x]!;
      const fixed = w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
      weights[xx * ksize + x] = fixed;
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights, precision: PRECISION_BITS };
}

/** Pillow's NEAREST resize: an affine scale sampling the source at the centre of each output pixel. */
function resizeNearest(src: PixelImage, width: number, height: number, box: readonly number[]): PixelImage {
  const ch = src.channels;
  const a0 = (box[2]! - box[0]!) / width;
  const a4 = (box[3]! - box[1]!) / height;
  const coord = (v: number): number => (v < 0 ? -1 : Math.trunc(v));
  const xin = new Int32Array(width);
  // Pillow accumulates the position by repeated addition; doing the same keeps the same rounding.
  let xo = box[0]! + a0 * 0.5;
  for (let x = 0; x < width; x++) {
    xin[x] = coord(xo);
    xo += a0;
  }
  const out = new Uint8Array(width * height * ch);
  let yo = box[1]! + a4 * 0.5;
  for (let y = 0; y < height; y++) {
    const yi = coord(yo);
    yo += a4;
    if (yi < 0 || yi >= src.height) continue;
    for (let x = 0; x < width; x++) {
      const xi = xin[x]!;
      if (xi < 0 || xi >= src.width) continue;
      for (let b = 0; b < ch; b++) out[(y * width + x) * ch + b] = src.data[(yi * src.width + xi) * ch + b]!;
    }
  }
  return { width, height, channels: ch, data: out };
}

/**
 * Resizes an 8-bit image to width x height as Pillow's `Image.resize(size, resample, box)` does.
 * `box` is the source region (left, top, right, bottom) in source pixels, the whole image by default.
 */
export function resizePil(
  src: PixelImage,
  width: number,
  height: number,
  resample: ResampleName | number = 'bicubic',
  box?: readonly number[],
): PixelImage {
  checkImage(src, 'resize input');
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`resize: target size must be positive integers, got ${width}x${height}`);
  }
  const name = typeof resample === 'number' ? resampleName(resample) : resample;
  // Pillow passes the box as C floats.
  const b = (box ?? [0, 0, src.width, src.height]).map((v) => Math.fround(v));
  if (b.length !== 4) throw new Error(`resize: box must have 4 numbers (left, top, right, bottom), got ${b.length}`);
  const whole = b[0] === 0 && b[1] === 0 && b[2] === src.width && b[3] === src.height;
  if (whole && width === src.width && height === src.height) {
    return { ...src, data: src.data.slice() };
  }
  if (name === 'nearest') return resizeNearest(src, width, height, b);

  const filter = FILTERS[name];
  const needHorizontal = width !== src.width || b[0] !== 0 || b[2] !== width;
  const needVertical = height !== src.height || b[1] !== 0 || b[3] !== height;
  const vert = coefficients(src.height, b[1]!, b[3]!, height, filter);
  let img = src;
  let rowShift = 0;
  if (needHorizontal) {
    // Only the rows the vertical pass reads are resampled horizontally.
    const first = vert.bounds[0]!;
    const last = vert.bounds[height * 2 - 2]! + vert.bounds[height * 2 - 1]!;
    const horiz = coefficients(src.width, b[0]!, b[2]!, width, filter);
    img = resampleRows(src, first, last - first, width, horiz);
    rowShift = first;
  }
  if (needVertical) img = resampleColumns(img, height, vert, rowShift);
  return img === src ? { ...src, data: src.data.slice() } : img;
}
