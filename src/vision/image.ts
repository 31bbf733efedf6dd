// The in-memory image every vision step works on: 8-bit pixels, rows top to bottom, channels interleaved (HWC).

export interface RgbImage {
  width: number;
  height: number;
  /** HWC, 3 channels (R, G, B), width * height * 3 bytes. */
  data: Uint8Array;
}

/** An 8-bit image with any channel count; the resampler and crop work on these. */
export interface PixelImage {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

export function asPixelImage(img: RgbImage): PixelImage {
  return { width: img.width, height: img.height, channels: 3, data: img.data };
}

export function checkImage(img: PixelImage, what = 'image'): void {
  if (!Number.isInteger(img.width) || !Number.isInteger(img.height) || img.width <= 0 || img.height <= 0) {
    throw new Error(`${what}: width and height must be positive integers, got ${img.width}x${img.height}`);
  }
  const want = img.width * img.height * img.channels;
  if (img.data.length !== want) {
    throw new Error(
      `${what}: expected ${want} bytes for ${img.width}x${img.height}x${img.channels}, got ${img.data.length}`,
    );
  }
}
