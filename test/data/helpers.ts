// Builders for miniature dataset copies: a temp folder, files, and tiny valid images (a PNG assembled here
// with zlib and CRC-32, or a copy of a golden JPEG).
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { GOLDEN } from '../helpers/cli.js';

export function tempDir(prefix = 'tandem-data-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a file, creating its folders. */
export function put(path: string, content: string | Uint8Array): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return path;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** A valid RGB PNG of the given size, filled with one colour (different seeds give different files). */
export function tinyPng(width: number, height: number, seed = 0): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    const o = y * (1 + width * 3);
    for (let x = 0; x < width; x++) raw.set([(seed * 37) & 255, (seed * 91 + x) & 255, (y * 13) & 255], o + 1 + x * 3);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Writes a tiny PNG (seeded) at `path`. */
export function putPng(path: string, seed = 0, width = 4, height = 3): string {
  return put(path, tinyPng(width, height, seed));
}

/** Copies the golden 64x48 JPEG to `path`. */
export function putJpeg(path: string): string {
  mkdirSync(dirname(path), { recursive: true });
  copyFileSync(join(GOLDEN, 'images', 'a.jpg'), path);
  return path;
}
