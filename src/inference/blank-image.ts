// Posts without an image, for runs trained with `--missing-image blank`: one black image written once into
// the run folder stands in for every missing one, at training and at prediction time alike.
import { existsSync } from 'node:fs';
import sharp from 'sharp';
import { writeFileAtomic } from '../io/atomic-write.js';
import type { Row } from '../data/rows.js';

/**
 * Gives posts without an image (image null, or a file that does not exist) a blank black image written once
 * to `blankPath`, and flags them with `extra.image_missing`. Returns how many posts got it.
 */
export async function fillMissingImages(rows: readonly Row[], blankPath: string): Promise<number> {
  const missing = rows.filter((r) => r.image === null || !existsSync(r.image));
  if (missing.length === 0) return 0;
  if (!existsSync(blankPath)) {
    const png = await sharp({ create: { width: 224, height: 224, channels: 3, background: { r: 0, g: 0, b: 0 } } })
      .png()
      .toBuffer();
    writeFileAtomic(blankPath, png);
  }
  for (const r of missing) {
    r.image = blankPath;
    r.extra = { ...r.extra, image_missing: true };
  }
  return missing.length;
}
