// Cheap image checks for `data inspect`: does the file exist, does it start with a known image signature, and
// can its width and height be read from the header. No decoding (and no dependency on the vision code).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { describeNonImage } from '../vision/sniff.js';

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp' | 'bmp' | 'tiff';

export type ImageProbe =
  | { ok: true; format: ImageFormat; width: number; height: number }
  | { ok: false; reason: 'missing' | 'empty' | 'unknown-format' | 'bad-header'; detail: string };

/** Random access over a file with positional reads; out-of-range reads return shorter buffers. */
class FileBytes {
  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}
  read(pos: number, len: number): Buffer {
    const n = Math.max(0, Math.min(len, this.size - pos));
    const buf = Buffer.alloc(n);
    if (n > 0) readSync(this.fd, buf, 0, n, pos);
    return buf;
  }
}

function bad(detail: string): ImageProbe {
  return { ok: false, reason: 'bad-header', detail };
}

function dims(format: ImageFormat, width: number, height: number): ImageProbe {
  if (!(width > 0 && height > 0)) return bad(`${format} header gives size ${width}x${height}`);
  return { ok: true, format, width, height };
}

function probeJpeg(f: FileBytes): ImageProbe {
  let pos = 2;
  // Walk the marker segments up to the first start-of-frame, which holds the size.
  for (let guard = 0; guard < 10000; guard++) {
    const h = f.read(pos, 2);
    if (h.length < 2) return bad('JPEG ends before its frame header (truncated)');
    if (h[0] !== 0xff) return bad(`JPEG marker expected at byte ${pos}`);
    let marker = h[1]!;
    while (marker === 0xff) {
      pos++;
      const m = f.read(pos, 2);
      if (m.length < 2) return bad('JPEG ends inside a marker');
      marker = m[1]!;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return bad('JPEG has no frame header before its image data');
    const seg = f.read(pos + 2, 7);
    if (seg.length < 2) return bad('JPEG ends inside a segment');
    const len = seg.readUInt16BE(0);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (seg.length < 7) return bad('JPEG frame header is truncated');
      return dims('jpeg', seg.readUInt16BE(5), seg.readUInt16BE(3));
    }
    if (len < 2) return bad(`JPEG segment with length ${len} at byte ${pos}`);
    pos += 2 + len;
  }
  return bad('JPEG has too many segments');
}

function probeTiff(f: FileBytes, little: boolean): ImageProbe {
  const u16 = (b: Buffer, o: number): number => (little ? b.readUInt16LE(o) : b.readUInt16BE(o));
  const u32 = (b: Buffer, o: number): number => (little ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const head = f.read(4, 4);
  if (head.length < 4) return bad('TIFF header is truncated');
  const ifd = u32(head, 0);
  const cnt = f.read(ifd, 2);
  if (cnt.length < 2) return bad('TIFF directory offset points past the end');
  const n = u16(cnt, 0);
  const entries = f.read(ifd + 2, n * 12);
  let width = 0;
  let height = 0;
  for (let k = 0; k + 12 <= entries.length; k += 12) {
    const tag = u16(entries, k);
    const type = u16(entries, k + 2);
    const v = type === 3 ? u16(entries, k + 8) : u32(entries, k + 8);
    if (tag === 256) width = v;
    if (tag === 257) height = v;
  }
  return dims('tiff', width, height);
}

function probeWebp(f: FileBytes): ImageProbe {
  const b = f.read(12, 20);
  if (b.length < 18) return bad('WebP header is truncated');
  const chunk = b.toString('latin1', 0, 4);
  if (chunk === 'VP8 ') {
    // frame tag (3 bytes) + start code 9d 01 2a, then 14-bit width/height
    if (b[11] !== 0x9d || b[12] !== 0x01 || b[13] !== 0x2a) return bad('WebP VP8 start code missing');
    return dims('webp', b.readUInt16LE(14) & 0x3fff, b.readUInt16LE(16) & 0x3fff);
  }
  if (chunk === 'VP8L') {
    if (b[8] !== 0x2f) return bad('WebP lossless signature missing');
    const b0 = b[9]!;
    const b1 = b[10]!;
    const b2 = b[11]!;
    const b3 = b[12]!;
    return dims('webp', 1 + (((b1 & 0x3f) << 8) | b0), 1 + (((b3 & 0x0f) << 10) | (b2 << 2) | ((b1 & 0xc0) >> 6)));
  }
  if (chunk === 'VP8X') return dims('webp', 1 + b.readUIntLE(12, 3), 1 + b.readUIntLE(15, 3));
  return bad(`unknown WebP chunk '${chunk}'`);
}

/** Reads the signature and size of an image file. */
export function probeImage(path: string): ImageProbe {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    return { ok: false, reason: 'missing', detail: (e as NodeJS.ErrnoException).code ?? String(e) };
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return { ok: false, reason: 'empty', detail: '0 bytes' };
    const f = new FileBytes(fd, size);
    const h = f.read(0, 32);
    if (h.length >= 3 && h[0] === 0xff && h[1] === 0xd8 && h[2] === 0xff) return probeJpeg(f);
    if (h.length >= 8 && h.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
      if (h.length < 24 || h.toString('latin1', 12, 16) !== 'IHDR') return bad('PNG without IHDR');
      return dims('png', h.readUInt32BE(16), h.readUInt32BE(20));
    }
    const sig6 = h.toString('latin1', 0, 6);
    if (sig6 === 'GIF87a' || sig6 === 'GIF89a') {
      if (h.length < 10) return bad('GIF header is truncated');
      return dims('gif', h.readUInt16LE(6), h.readUInt16LE(8));
    }
    if (h.length >= 12 && h.toString('latin1', 0, 4) === 'RIFF' && h.toString('latin1', 8, 12) === 'WEBP')
      return probeWebp(f);
    if (h.length >= 2 && h[0] === 0x42 && h[1] === 0x4d) {
      if (h.length < 26) return bad('BMP header is truncated');
      const dib = h.readUInt32LE(14);
      if (dib === 12) return dims('bmp', h.readUInt16LE(18), h.readUInt16LE(20));
      return dims('bmp', Math.abs(h.readInt32LE(18)), Math.abs(h.readInt32LE(22)));
    }
    if (h.length >= 4 && h[0] === 0x49 && h[1] === 0x49 && h[2] === 0x2a && h[3] === 0) return probeTiff(f, true);
    if (h.length >= 4 && h[0] === 0x4d && h[1] === 0x4d && h[2] === 0 && h[3] === 0x2a) return probeTiff(f, false);
    const what = describeNonImage(h);
    return { ok: false, reason: 'unknown-format', detail: what ?? `starts with ${h.subarray(0, 8).toString('hex')}` };
  } finally {
    closeSync(fd);
  }
}
