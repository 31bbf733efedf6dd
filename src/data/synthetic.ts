// A synthetic image-text dataset for trying the pipeline offline and for tests: each post is a short
// social-media style text naming a colour and a shape, with a picture of a coloured shape (drawn as SVG and
// encoded by sharp, with a gradient background, texture and jitter so no two images are identical). The
// label says whether the text and the image agree ('match') or not ('mismatch'), so it can only be
// predicted from both modalities together, the situation the ITC and ITM objectives target.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { SeededRandom } from '../runtime/random.js';
import { DEFAULT_RATIOS } from './splits.js';
import { writeGeneric } from './generic.js';
import type { Row } from './rows.js';

export const SYNTH_COLOURS: Record<string, [number, number, number]> = {
  red: [220, 40, 40],
  green: [40, 170, 60],
  blue: [40, 80, 220],
  yellow: [235, 205, 40],
};
export const SYNTH_SHAPES = ['circle', 'square', 'triangle'] as const;

const TEMPLATES = [
  'Loving this {c} {s} today! #art',
  'who else thinks the {c} {s} is underrated?? 😍',
  'just saw a {c} {s} on my way to work',
  '@USER look at this {c} {s} lol',
  'new wallpaper: {c} {s}, minimal and clean ✨',
  'can’t stop staring at the {c} {s} #design',
  'Monday mood = {c} {s}',
  'my kid drew a {c} {s} and I’m so proud HTTPURL',
];

/** The defaults of SynthOptions (`tandem data synth` reads them too). */
export const SYNTH_DEFAULTS = {
  count: 400,
  seed: 0,
  size: 64,
  matchRate: 0.5,
  colours: 4,
  style: 'social',
} as const;

export interface SynthOptions {
  count: number;
  seed?: number;
  /** Image side in pixels (default 64). */
  size?: number;
  /** Fraction of posts whose text and image agree (default 0.5). */
  matchRate?: number;
  /** How many colours to draw from (2 to 4; default 4). Two make the easiest agreement task. */
  colours?: number;
  /** 'social' (default): tweet-like sentences; 'plain': just "<colour> <shape>" (an easier task for tiny models). */
  style?: 'social' | 'plain';
  /** train:dev:test fractions (default 0.8:0.1:0.1). */
  splits?: [number, number, number];
}

function shapeSvg(shape: string, rgb: [number, number, number], size: number, rand: () => number): string {
  const cx = size * (0.4 + 0.2 * rand());
  const cy = size * (0.4 + 0.2 * rand());
  const r = size * (0.22 + 0.1 * rand());
  const fill = `rgb(${rgb.map((v) => Math.max(0, Math.min(255, Math.round(v + (rand() - 0.5) * 40)))).join(',')})`;
  const bg1 = `hsl(${Math.floor(rand() * 360)},25%,${80 + Math.floor(rand() * 15)}%)`;
  const bg2 = `hsl(${Math.floor(rand() * 360)},20%,${60 + Math.floor(rand() * 20)}%)`;
  let body: string;
  if (shape === 'circle') body = `<circle cx="${cx}" cy="${cy}" r="${r}" fill="${fill}"/>`;
  else if (shape === 'square')
    body = `<rect x="${cx - r}" y="${cy - r}" width="${2 * r}" height="${2 * r}" fill="${fill}" transform="rotate(${Math.floor(rand() * 30 - 15)} ${cx} ${cy})"/>`;
  else body = `<polygon points="${cx},${cy - r} ${cx - r},${cy + r} ${cx + r},${cy + r}" fill="${fill}"/>`;
  const dots = Array.from(
    { length: 12 },
    () => `<circle cx="${rand() * size}" cy="${rand() * size}" r="${1 + rand() * 2}" fill="rgba(0,0,0,0.08)"/>`,
  ).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${bg1}"/><stop offset="1" stop-color="${bg2}"/></linearGradient></defs><rect width="100%" height="100%" fill="url(#g)"/>${dots}${body}</svg>`;
}

/** Writes `count` posts (images under images/, posts.jsonl) into dir and returns the rows. */
export async function writeSyntheticDataset(dir: string, opts: SynthOptions): Promise<Row[]> {
  const rng = new SeededRandom(opts.seed ?? SYNTH_DEFAULTS.seed, 'mulberry32');
  const rand = (): number => rng.next();
  const size = opts.size ?? SYNTH_DEFAULTS.size;
  const matchRate = opts.matchRate ?? SYNTH_DEFAULTS.matchRate;
  const [fTrain, fDev] = opts.splits ?? DEFAULT_RATIOS;
  const n = opts.colours ?? SYNTH_DEFAULTS.colours;
  if (!Number.isInteger(n) || n < 2 || n > 4) throw new RangeError(`colours must be 2, 3 or 4, got ${n}`);
  const colours = Object.keys(SYNTH_COLOURS)
    .slice(0, n)
    .sort((a, b) => (a === 'blue' ? -1 : b === 'blue' ? 1 : 0));
  mkdirSync(join(dir, 'images'), { recursive: true });
  const rows: Row[] = [];
  for (let i = 0; i < opts.count; i++) {
    const imgColour = colours[Math.floor(rand() * colours.length)]!;
    const shape = SYNTH_SHAPES[Math.floor(rand() * SYNTH_SHAPES.length)]!;
    const match = rand() < matchRate;
    const others = colours.filter((c) => c !== imgColour);
    const textColour = match ? imgColour : others[Math.floor(rand() * others.length)]!;
    const template = opts.style === 'plain' ? '{c} {s}' : TEMPLATES[Math.floor(rand() * TEMPLATES.length)]!;
    const text = template.replace('{c}', textColour).replace('{s}', shape);
    const svg = shapeSvg(shape, SYNTH_COLOURS[imgColour]!, size, rand);
    const name = `${String(i).padStart(5, '0')}.${i % 3 === 0 ? 'jpg' : 'png'}`;
    const img = sharp(Buffer.from(svg));
    await (i % 3 === 0 ? img.jpeg({ quality: 90 }) : img.png()).toFile(join(dir, 'images', name));
    const u = (i + 0.5) / opts.count; // stratification-free but deterministic interleaving of splits
    const split = (u * 7919) % 1 < fTrain ? 'train' : (u * 7919) % 1 < fTrain + fDev ? 'dev' : 'test';
    rows.push({
      id: `synth-${i}`,
      text,
      image: join(dir, 'images', name),
      label: match ? 'match' : 'mismatch',
      split,
      extra: { image_colour: imgColour, text_colour: textColour, shape },
    });
  }
  writeGeneric(rows, join(dir, 'posts.jsonl'));
  return rows;
}
