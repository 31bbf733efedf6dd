// One image's way from file to pixel values: read, hash, decode, resize/crop/normalise. Runs in the worker
// threads of an ImagePool, or inline when the pool has no workers.
import { readFile } from 'node:fs/promises';
import {
  decodeImage,
  processImage,
  type Backend,
  type DecodeOptions,
  type ImageProcessorConfig,
} from '../../vision/index.js';
import { sha1Hex } from './keys.js';

export interface ImageJob {
  path: string;
  /** 'hash' only reads and hashes the file (feature-cache lookups); 'process' also decodes and processes it. */
  kind: 'hash' | 'process';
  cfg: ImageProcessorConfig;
  backend: Backend;
  decode: Pick<DecodeOptions, 'maxPixels' | 'background'>;
}

export type ImageResult =
  | { ok: true; key: string; pixels?: { data: Float32Array; height: number; width: number } }
  | { ok: false; reason: 'missing-image' | 'unreadable-image'; detail: string };

export async function runImageJob(job: ImageJob): Promise<ImageResult> {
  let bytes: Buffer;
  try {
    bytes = await readFile(job.path);
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
    return { ok: false, reason: 'unreadable-image', detail: (e as Error).message };
  }
}
