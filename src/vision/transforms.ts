// The steps of a Hugging Face image processor after decoding: output-size rules, centre crop, and the float
// conversion (rescale + normalise) to CHW, each in the two flavours transformers has: its torchvision backend
// (default since transformers 5) and its NumPy/PIL backend (the "slow" processors of transformers 4).
import type { PixelImage } from './image.js';

export type Backend = 'torchvision' | 'pil';

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * transformers' get_resize_output_image_size with default_to_square=False: the shorter side becomes `size`,
 * the longer one int(size * long / short). Returns [height, width].
 */
export function shortestEdgeSize(height: number, width: number, size: number, maxSize?: number): [number, number] {
  const [short, long] = width <= height ? [width, height] : [height, width];
  let newShort = size;
  let newLong = Math.trunc((size * long) / short);
  if (maxSize !== undefined) {
    if (maxSize <= size) throw new Error(`max_size (${maxSize}) must be larger than the shortest edge (${size})`);
    if (newLong > maxSize) {
      newShort = Math.trunc((maxSize * newShort) / newLong);
      newLong = maxSize;
    }
  }
  return width <= height ? [newLong, newShort] : [newShort, newLong];
}

/** transformers' get_size_with_aspect_ratio ({shortest_edge, longest_edge}). Returns [height, width]. */
export function shortestLongestEdgeSize(
  height: number,
  width: number,
  size: number,
  maxSize: number,
): [number, number] {
  let rawSize: number | undefined;
  const minOrig = Math.min(height, width);
  const maxOrig = Math.max(height, width);
  if ((maxOrig / minOrig) * size > maxSize) {
    rawSize = (maxSize * minOrig) / maxOrig;
    size = roundHalfEven(rawSize);
  }
  if ((height <= width && height === size) || (width <= height && width === size)) return [height, width];
  if (width < height) return [Math.trunc(((rawSize ?? size) * height) / width), size];
  return [size, Math.trunc(((rawSize ?? size) * width) / height)];
}

/** ViLT's rule: shorter side to `shorter`, longer side at most int(1333 / 800 * shorter), both floored to a multiple of size_divisor. */
export function viltSize(height: number, width: number, shorter: number, sizeDivisor: number): [number, number] {
  const longer = Math.trunc((1333 / 800) * shorter);
  const scale = shorter / Math.min(height, width);
  let newH: number;
  let newW: number;
  if (height < width) {
    newH = shorter;
    newW = scale * width;
  } else {
    newH = scale * height;
    newW = shorter;
  }
  if (Math.max(newH, newW) > longer) {
    const s = longer / Math.max(newH, newW);
    newH = s * newH;
    newW = s * newW;
  }
  newH = Math.trunc(newH + 0.5);
  newW = Math.trunc(newW + 0.5);
  return [Math.floor(newH / sizeDivisor) * sizeDivisor, Math.floor(newW / sizeDivisor) * sizeDivisor];
}

/**
 * Centre crop to cropH x cropW; an image smaller than the crop is first padded with zeros. The backends
 * differ only in where an odd padding amount goes (PIL backend: the extra row/column on top/left).
 */
export function centerCrop(img: PixelImage, cropH: number, cropW: number, backend: Backend): PixelImage {
  const ch = img.channels;
  let padTop = 0;
  let padLeft = 0;
  let h = img.height;
  let w = img.width;
  if (cropH > h || cropW > w) {
    const addH = Math.max(cropH - h, 0);
    const addW = Math.max(cropW - w, 0);
    padTop = backend === 'pil' ? Math.ceil(addH / 2) : Math.floor(addH / 2);
    padLeft = backend === 'pil' ? Math.ceil(addW / 2) : Math.floor(addW / 2);
    h += addH;
    w += addW;
  }
  // Both backends truncate the offset ((h - crop) // 2, int((h - crop) / 2.0)); h >= crop here.
  const top = Math.floor((h - cropH) / 2);
  const left = Math.floor((w - cropW) / 2);
  const out = new Uint8Array(cropH * cropW * ch);
  for (let y = 0; y < cropH; y++) {
    const sy = y + top - padTop;
    if (sy < 0 || sy >= img.height) continue;
    for (let x = 0; x < cropW; x++) {
      const sx = x + left - padLeft;
      if (sx < 0 || sx >= img.width) continue;
      for (let b = 0; b < ch; b++) out[(y * cropW + x) * ch + b] = img.data[(sy * img.width + sx) * ch + b]!;
    }
  }
  return { width: cropW, height: cropH, channels: ch, data: out };
}

export interface FloatOptions {
  doRescale: boolean;
  rescaleFactor: number;
  doNormalize: boolean;
  mean: readonly number[];
  std: readonly number[];
}

/**
 * HWC uint8 to CHW float32 with rescale and normalise in float32, rounding exactly as the backend does:
 * torchvision fuses them into (x - mean/factor) / (std/factor); the PIL backend rescales in float64, casts to
 * float32, then normalises.
 */
export function toPixelValues(
  img: PixelImage,
  o: FloatOptions,
  backend: Backend,
  out?: Float32Array,
  outOffset = 0,
): Float32Array {
  const ch = img.channels;
  const plane = img.width * img.height;
  const dst = out ?? new Float32Array(ch * plane);
  const f = Math.fround;
  if (o.doNormalize && (o.mean.length !== ch || o.std.length !== ch)) {
    throw new Error(
      `image_mean and image_std need ${ch} values (one per channel), got ${o.mean.length} and ${o.std.length}`,
    );
  }
  for (let c = 0; c < ch; c++) {
    let m = 0;
    let s = 1;
    if (o.doNormalize) {
      m = f(o.mean[c]!);
      s = f(o.std[c]!);
      if (backend === 'torchvision' && o.doRescale) {
        const inv = f(1 / o.rescaleFactor);
        m = f(m * inv);
        s = f(s * inv);
      }
    }
    const base = outOffset + c * plane;
    const factor32 = f(o.rescaleFactor);
    for (let i = 0; i < plane; i++) {
      const u = img.data[i * ch + c]!;
      let v: number;
      if (backend === 'torchvision') {
        if (o.doNormalize) v = f(f(u - m) / s);
        else if (o.doRescale) v = f(u * factor32);
        else v = u;
      } else {
        v = o.doRescale ? f(u * o.rescaleFactor) : u;
        if (o.doNormalize) v = f(f(v - m) / s);
      }
      dst[base + i] = v;
    }
  }
  return dst;
}
