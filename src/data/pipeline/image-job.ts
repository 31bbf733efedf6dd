// One image's way from file (or bytes) to pixel values: read, hash, decode, resize/crop/normalise. Runs in the
// worker threads of an ImagePool, or inline when the pool has no workers.
import { readFile } from 'node:fs/promises';
import {
  decodeImage,
  ImageDecodeError,
  processImage,
  type Backend,
  type DecodeOptions,
  type ImageProcessorConfig,
} from '../../vision/index.js';
import { sha1Hex } from './keys.js';

export interface ImageJob {
  /** The image file; with `bytes`, only the name its errors give. */
  path: string;
  /** The image's bytes when they are not in a file (an upload): nothing is read from disk. */
  bytes?: Uint8Array;
  /** 'hash' only reads and hashes the file (feature-cache lookups); 'process' also decodes and processes it. */
  kind: 'hash' | 'process';
  cfg: ImageProcessorConfig;
  backend: Backend;
  decode: Pick<DecodeOptions, 'maxPixels' | 'background'>;
}

export type ImageResult =
  | { ok: true; key: string; pixels?: { data: Float32Array; height: number; width: number } }
  | {
      ok: false;
      reason: 'missing-image' | 'unreadable-image';
      detail: string;
      /** For an image that does not decode: the ImageDecodeError's problem (what is wrong, without the name). */
      problem?: string;
    };

export async function runImageJob(job: ImageJob): Promise<ImageResult> {
  let bytes: Uint8Array;
  try {
    bytes = job.bytes ?? (await readFile(job.path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      return { ok: false, reason: 'missing-image', detail: `image file not found: ${job.path}` };
    return {
      ok: false,
      reason: 'unreadable-image',
      detail: `cannot read image file ${job.path}: ${(e as Error).message}`,
    };
  }
  const key = sha1Hex(bytes);
  if (job.kind === 'hash') return { ok: true, key };
  try {
    const img = await decodeImage(bytes, { ...job.decode, name: job.path });
    return { ok: true, key, pixels: processImage(job.cfg, img, job.backend) };
  } catch (e) {
    const problem = e instanceof ImageDecodeError ? { problem: e.problem } : {};
    return { ok: false, reason: 'unreadable-image', detail: (e as Error).message, ...problem };
  }
}
