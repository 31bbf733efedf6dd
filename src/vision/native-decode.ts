// The in-process PNG and JPEG decoder (native/codecs: the system's libpng and libjpeg-turbo), which decode.ts
// tries first for the PNGs and JPEGs Pillow and sharp decode alike. It gives the same pixels as the sharp path
// (tested on every edge case, sampling factor and PNG colour type in test/fixtures) at a fraction of the CPU:
// a libvips pipeline costs about 0.6 ms to set up whatever the image's size. A build without it (the device
// check compiles only the engine addon) decodes everything through sharp.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../runtime/package-root.js';
import type { RgbImage } from './image.js';

interface Codecs {
  decode(bytes: Uint8Array, maxPixels: number): Promise<{ width: number; height: number; data: Buffer }>;
  versions: { libjpeg: number; libpng: string };
}

function load(): Codecs | null {
  const path = join(packageRoot(import.meta.url), 'build', 'Release', 'tandem_codecs.node');
  if (!existsSync(path)) return null;
  try {
    return createRequire(import.meta.url)(path) as Codecs;
  } catch (e) {
    throw new Error(
      `tandem: ${path} does not load (${(e as Error).message.split('\n')[0]}): install libjpeg62-turbo and libpng16-16, or rebuild with \`npx node-gyp rebuild\``,
    );
  }
}

const codecs = load();

/** What decodes PNGs and JPEGs in this process: the in-process libraries' versions, or null (sharp only). */
export const inProcessDecoder: string | null = codecs
  ? `libjpeg-turbo (libjpeg API ${codecs.versions.libjpeg}), libpng ${codecs.versions.libpng}`
  : null;

/**
 * Decodes a PNG (up to 8 bits per sample) or a grey or colour JPEG in the process, off the main thread; null
 * when it cannot (not built, another kind of image, corrupt or truncated data, more than `maxPixels`): the
 * caller then decodes through sharp, which also names what is wrong.
 */
export async function decodeInProcess(bytes: Uint8Array, maxPixels: number): Promise<RgbImage | null> {
  if (!codecs) return null;
  try {
    const { width, height, data } = await codecs.decode(bytes, maxPixels);
    return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
  } catch {
    return null;
  }
}
