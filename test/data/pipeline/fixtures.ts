// A tiny generated image-text dataset for the pipeline tests: PNG and JPEG images written with sharp in a
// temp folder (one byte-identical duplicate), posts in the generic JSONL format.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { GOLDEN } from '../../helpers/cli.js';

export const BERT_DIR = join(GOLDEN, 'models', 'bert');
export const VIT_DIR = join(GOLDEN, 'models', 'vit');
export const VILT_DIR = join(GOLDEN, 'models', 'vilt');
export const ROBERTA_DIR = join(GOLDEN, 'models', 'roberta');
export const LABELS = ['negative', 'neutral', 'positive'];

export function tempDir(prefix = 'tandem-pipeline-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A w x h image with a diagonal colour gradient seeded by `seed`, as PNG or JPEG. */
export async function writeImage(
  path: string,
  w: number,
  h: number,
  seed: number,
  format: 'png' | 'jpeg' = 'png',
): Promise<string> {
  const data = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 3;
      data[o] = (x * 7 + seed * 40) & 255;
      data[o + 1] = (y * 5 + seed * 90) & 255;
      data[o + 2] = ((x + y) * 3 + seed * 13) & 255;
    }
  }
  const img = sharp(data, { raw: { width: w, height: h, channels: 3 } });
  await (format === 'png' ? img.png() : img.jpeg({ quality: 90 })).toFile(path);
  return path;
}

export interface Post {
  id: string;
  text: string;
  image: string | null;
  label?: string;
  labels?: string[];
}

/**
 * n posts (n >= 6) with images img/<i>.png|jpg of varying sizes; post 3 repeats post 0's text with other
 * case and spacing, post 4's image is a byte copy of post 1's. Labels cycle through LABELS.
 */
export async function makeDataset(
  n: number,
  opts: { sizes?: Array<[number, number]> } = {},
): Promise<{ dir: string; file: string; posts: Post[] }> {
  const dir = tempDir();
  mkdirSync(join(dir, 'img'));
  const sizes = opts.sizes ?? [
    [40, 30],
    [32, 48],
    [64, 64],
    [50, 20],
  ];
  const words = [
    'sunny beach day',
    'traffic again today',
    'the cat sleeps',
    'new phone who dis',
    'rain rain go away',
    'great game tonight',
  ];
  const posts: Post[] = [];
  for (let i = 0; i < n; i++) {
    const ext = i % 2 === 0 ? 'png' : 'jpg';
    const rel = `img/${i}.${ext}`;
    if (i === 4) copyFileSync(join(dir, 'img', '1.jpg'), join(dir, rel.replace('.png', '.jpg')));
    const [w, h] = sizes[i % sizes.length]!;
    const imgRel = i === 4 ? 'img/4.jpg' : rel;
    if (i !== 4) await writeImage(join(dir, imgRel), w, h, i, ext === 'png' ? 'png' : 'jpeg');
    const text = i === 3 ? '  SUNNY   beach Day ' : `${words[i % words.length]} number ${i}`;
    posts.push({ id: `p${i}`, text: i === 0 ? 'sunny beach day' : text, image: imgRel, label: LABELS[i % 3] });
  }
  const file = join(dir, 'posts.jsonl');
  writeFileSync(file, posts.map((p) => JSON.stringify(p)).join('\n') + '\n');
  return { dir, file, posts };
}
