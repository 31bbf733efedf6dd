// The size of a PNG or JPEG read from its first bytes, for the images that decode.ts can decode in one libvips
// call: most uploads and datasets are 8-bit PNGs and JPEGs, and asking libvips for the metadata first costs
// about as much as decoding a small image. Whatever needs one of decode.ts's format-specific branches (16-bit
// grey PNG, 4-channel CMYK/YCCK JPEG), any other format and any header this does not follow gives null: the
// caller then reads the metadata through libvips as before.

export interface PlainSize {
  format: 'png' | 'jpeg';
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function be16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}
function be32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

/** A PNG's IHDR (the first chunk): its size, unless it is 16-bit grey (decoded apart, as Pillow's mode 'I'). */
function pngSize(b: Uint8Array): PlainSize | null {
  if (b.length < 33 || PNG_SIGNATURE.some((v, i) => b[i] !== v)) return null;
  if (String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!) !== 'IHDR') return null;
  const bitDepth = b[24]!;
  const colourType = b[25]!;
  if (bitDepth === 16 && colourType === 0) return null;
  return { format: 'png', width: be32(b, 16), height: be32(b, 20) };
}

// Start-of-frame markers (C0-CF except DHT C4, JPG C8 and DAC CC): the frame header holds the size and the
// number of components.
const isFrame = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** A JPEG's frame header, found by skipping the segments before it: its size, unless it has 4 components. */
function jpegSize(b: Uint8Array): PlainSize | null {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  let i = 2;
  while (i + 3 < b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // markers without a length
      continue;
    }
    // a second SOI, the end, or a scan before any frame header: not a file this follows
    if (marker === 0xd8 || marker === 0xd9 || marker === 0xda) return null;
    const length = be16(b, i + 2);
    if (length < 2) return null;
    if (isFrame(marker)) {
      if (i + 9 >= b.length) return null;
      const height = be16(b, i + 5);
      const width = be16(b, i + 7);
      const components = b[i + 9]!;
      // height 0 is given later by a DNL segment; 4 components are CMYK or YCCK
      if (height === 0 || width === 0 || (components !== 1 && components !== 3)) return null;
      return { format: 'jpeg', width, height };
    }
    i += 2 + length;
  }
  return null;
}

/** The format and size of a PNG (not 16-bit grey) or a grey or colour (not CMYK) JPEG from its header; else null. */
export function plainPngOrJpeg(bytes: Uint8Array): PlainSize | null {
  return pngSize(bytes) ?? jpegSize(bytes);
}
