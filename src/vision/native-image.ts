// tandem_image.node (native/image: the system's libpng and libjpeg-turbo, and the two passes of a separable
// resize), loaded when built. decode.ts tries its decoder first for the PNGs and JPEGs Pillow and sharp decode
// alike: the same pixels as the sharp path (tested on every edge case, sampling factor and PNG colour type in
// test/fixtures) at a fraction of the CPU, since a libvips pipeline costs about 0.6 ms to set up whatever the
// image's size. resample-passes.ts runs its resize passes (the same bytes as its JavaScript, about 6x faster).
// A build without it (the device check compiles only the engine addon) decodes through sharp and resizes in
// JavaScript.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../runtime/package-root.js';
import type { RgbImage } from './image.js';

export interface ImageAddon {
  decode(bytes: Uint8Array, maxPixels: number): Promise<{ width: number; height: number; data: Buffer }>;
  versions: { libjpeg: number; libpng: string };
  resampleRows(
    src: Uint8Array,
    width: number,
    channels: number,
    firstRow: number,
    rows: number,
    outWidth: number,
    bounds: Int32Array,
    weights: Int32Array,
    ksize: number,
    precision: number,
  ): Uint8Array;
  resampleColumns(
    src: Uint8Array,
    width: number,
    channels: number,
    height: number,
    outHeight: number,
    bounds: Int32Array,
    weights: Int32Array,
    ksize: number,
    precision: number,
    rowShift: number,
  ): Uint8Array;
}

function load(): ImageAddon | null {
  const path = join(packageRoot(import.meta.url), 'build', 'Release', 'tandem_image.node');
  if (!existsSync(path)) return null;
  try {
    return createRequire(import.meta.url)(path) as ImageAddon;
  } catch (e) {
    throw new Error(
      `tandem: ${path} does not load (${(e as Error).message.split('\n')[0]}): install libjpeg62-turbo and libpng16-16, or rebuild with \`npx node-gyp rebuild\``,
    );
  }
}

/** The addon, or null where it is not built. */
export const imageAddon: ImageAddon | null = load();

/** What decodes PNGs and JPEGs in this process: the in-process libraries' versions, or null (sharp only). */
export const inProcessDecoder: string | null = imageAddon
  ? `libjpeg-turbo (libjpeg API ${imageAddon.versions.libjpeg}), libpng ${imageAddon.versions.libpng}`
  : null;

/**
 * Decodes a PNG (up to 8 bits per sample) or a grey or colour JPEG in the process, off the main thread; null
 * when it cannot (not built, another kind of image, corrupt or truncated data, more than `maxPixels`): the
 * caller then decodes through sharp, which also names what is wrong.
 */
export async function decodeInProcess(bytes: Uint8Array, maxPixels: number): Promise<RgbImage | null> {
  if (!imageAddon) return null;
  try {
    const { width, height, data } = await imageAddon.decode(bytes, maxPixels);
    return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch {
    return null;
  }
}
