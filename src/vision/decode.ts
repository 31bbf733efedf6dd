// Image decoding through sharp (libvips): JPEG, PNG, WebP, GIF (first frame), AVIF, TIFF and what else libvips
// reads, to 8-bit RGB as Pillow's `Image.open(f).convert('RGB')` gives it, which is what the paper's code
// hands the processors: EXIF orientation NOT applied (Pillow applies it only through ImageOps.exif_transpose,
// which transformers' load_image calls for paths and URLs but the paper's datasets.py never does; autoOrient
// opts in), alpha dropped (not composited) unless a background is asked for, grey replicated to three channels,
// CMYK and YCCK converted with Pillow's formula, 16-bit grey clipped to 255 as Pillow's mode 'I' -> 'RGB' does
// (16-bit colour keeps the high byte, as sharp does), embedded ICC profiles ignored as Pillow ignores them.
// Truncated files, non-images (HTML error pages saved as .jpg) and decompression bombs are errors naming the
// file. test/fixtures/images-edge (test/tools/gen_image_edge_cases.py) holds Pillow's output for each case.
import { readFileSync, statSync } from 'node:fs';
import sharp from 'sharp';
import type { RgbImage } from './image.js';
import { plainPngOrJpeg } from './header.js';
import { decodeInProcess } from './native-image.js';
import { describeNonImage } from './sniff.js';

/** Pillow's own decompression-bomb threshold (Image.MAX_IMAGE_PIXELS). */
export const DEFAULT_MAX_PIXELS = 89_478_485;

export interface DecodeOptions {
  /**
   * Composite transparent pixels over this colour (r, g, b in 0..255). Without it the alpha channel is dropped,
   * as Pillow's convert('RGB') does and the reference outputs expect.
   */
  background?: readonly [number, number, number];
  /** Refuse images with more pixels than this before decoding them (decompression bombs). */
  maxPixels?: number;
  /** Apply the EXIF orientation tag (default false: Pillow's Image.open, as the paper's code, leaves it). */
  autoOrient?: boolean;
  /**
   * Convert through an embedded ICC profile to sRGB. Default false: Pillow ignores embedded profiles and so
   * do the reference processors, so the stored values are taken as they are.
   */
  colourManage?: boolean;
}

/** An image that could not be decoded; `file` names it. */
export class ImageDecodeError extends Error {
  constructor(
    readonly file: string,
    /** What is wrong, without the file's name. */
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'ImageDecodeError';
  }
}

function truncated(e: unknown): boolean {
  return /premature end|truncated|unexpected end|not enough data/i.test((e as Error)?.message ?? '');
}

function describe(e: unknown): string {
  const msg = (e as Error)?.message ?? String(e);
  return msg.split('\n')[0]!.trim();
}

/** The decoder on an image's bytes (EXIF orientation applied when asked). */
function open(bytes: Uint8Array, maxPixels: number, opts: DecodeOptions): sharp.Sharp {
  // failOn 'error' rejects truncated and corrupt data instead of returning grey rows; page 0 is a GIF's first frame.
  const p = sharp(bytes, {
    failOn: 'error',
    limitInputPixels: maxPixels,
    pages: 1,
    page: 0,
    ignoreIcc: !opts.colourManage,
  });
  return (opts.autoOrient ?? false) ? p.rotate() : p;
}

/** The generic branch: 8-bit sRGB, alpha dropped or composited over the background. */
async function toRgb(p: sharp.Sharp, opts: DecodeOptions): Promise<RgbImage> {
  if (opts.background) {
    const [r, g, b] = opts.background;
    p = p.flatten({ background: { r, g, b } });
  } else {
    p = p.removeAlpha();
  }
  const { data, info } = await p.toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`decoder returned ${info.channels} channels, expected 3`);
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/**
 * Decodes an image file (a path) or its bytes (`name` then labels errors) to 8-bit HWC RGB.
 * Throws ImageDecodeError naming the file for missing, empty, corrupt, truncated or oversized images.
 */
export async function decodeImage(
  input: string | Uint8Array,
  opts: DecodeOptions & { name?: string } = {},
): Promise<RgbImage> {
  const name = typeof input === 'string' ? input : (opts.name ?? '<buffer>');
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_PIXELS;
  let bytes: Uint8Array;
  if (typeof input === 'string') {
    try {
      if (!statSync(input).isFile()) throw new Error('not a regular file');
      bytes = readFileSync(input);
    } catch (e) {
      throw new ImageDecodeError(name, `cannot read image: ${describe(e)}`);
    }
  } else {
    bytes = input;
  }
  if (bytes.length === 0) throw new ImageDecodeError(name, 'empty file (0 bytes), not an image');
  const notImage = describeNonImage(bytes.subarray(0, 512));
  if (notImage) throw new ImageDecodeError(name, notImage);

  // Most images are PNGs and JPEGs that the generic branch below decodes: their header says so, and they are
  // decoded in the process (native-image.ts) or else in one libvips call instead of two. Should that fail,
  // the full path below names the error.
  const plain = plainPngOrJpeg(bytes);
  if (plain && plain.width * plain.height <= maxPixels) {
    // The in-process decoder neither composites alpha, nor rotates, nor converts colour profiles.
    if (!opts.background && !opts.autoOrient && !opts.colourManage) {
      const img = await decodeInProcess(bytes, maxPixels);
      if (img) return img;
    }
    try {
      return await toRgb(open(bytes, maxPixels, opts), opts);
    } catch {
      // fall through
    }
  }

  let meta: sharp.Metadata;
  try {
    // Header only: the size check below happens before any pixel is decoded.
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new ImageDecodeError(name, `${truncated(e) ? 'truncated' : 'not a readable'} image (${describe(e)})`);
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (w * h > maxPixels) {
    throw new ImageDecodeError(
      name,
      `image is ${w}x${h} = ${w * h} pixels, over the limit of ${maxPixels} (possible decompression bomb; a higher maxPixels allows it)`,
    );
  }

  try {
    const p = open(bytes, maxPixels, opts);
    if (meta.format === 'png' && meta.depth === 'ushort' && meta.channels === 1) {
      // Pillow opens 16-bit grey as mode 'I' and convert('RGB') clips it to 0..255 (so most of it is white).
      const { data, info } = await p
        .toColourspace('grey16')
        .raw({ depth: 'ushort' })
        .toBuffer({ resolveWithObject: true });
      const v = new Uint16Array(data.buffer, data.byteOffset, data.length / 2);
      const out = new Uint8Array(info.width * info.height * 3);
      for (let i = 0; i < info.width * info.height; i++)
        out.fill(Math.min(v[i * info.channels]!, 255), i * 3, i * 3 + 3);
      return { width: info.width, height: info.height, data: out };
    }
    if (meta.space === 'cmyk' && !opts.colourManage) {
      // Keep the ink values (libvips already undoes Adobe's inversion) and convert them as Pillow does.
      const { data, info } = await p
        .pipelineColourspace('cmyk')
        .toColourspace('cmyk')
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
      if (info.channels < 4) throw new Error(`CMYK decoder returned ${info.channels} channels`);
      return { width: info.width, height: info.height, data: cmykToRgb(data, info.channels) };
    }
    return await toRgb(p, opts);
  } catch (e) {
    const what = truncated(e) ? `truncated ${meta.format ?? 'image'} file` : `cannot decode ${meta.format ?? 'image'}`;
    throw new ImageDecodeError(name, `${what}: ${describe(e)}`);
  }
}

/** Pillow's CMYK -> RGB: each of R, G, B is (255 - K) * (255 - C|M|Y) / 255 with Pillow's integer rounding. */
export function cmykToRgb(data: Uint8Array, channels = 4): Uint8Array {
  const n = Math.floor(data.length / channels);
  const out = new Uint8Array(n * 3);
  const muldiv255 = (a: number, b: number): number => {
    const t = a * b + 128;
    return ((t >> 8) + t) >> 8;
  };
  for (let i = 0; i < n; i++) {
    const nk = 255 - data[i * channels + 3]!;
    for (let c = 0; c < 3; c++) {
      const v = nk - muldiv255(data[i * channels + c]!, nk);
      out[i * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}
