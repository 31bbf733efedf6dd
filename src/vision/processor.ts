// Hugging Face image processors driven by preprocessor_config.json: ViT, DeiT, BEiT, CLIP, SigLIP, ViLT, BLIP.
// Order as in transformers: (convert to RGB) -> resize -> centre crop -> rescale + normalise -> (ViLT: pad to
// the largest image in the batch, with pixel_mask). Field names are transformers' own.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { asPixelImage, checkImage, type PixelImage, type RgbImage } from './image.js';
import { resampleName, resizePil } from './resample.js';
import { resizeTorchvision } from './resample-torch.js';
import {
  centerCrop,
  shortestEdgeSize,
  shortestLongestEdgeSize,
  toPixelValues,
  viltSize,
  type Backend,
} from './transforms.js';

export type { Backend } from './transforms.js';

export interface SizeDict {
  height?: number;
  width?: number;
  shortest_edge?: number;
  longest_edge?: number;
}

export type ProcessorFamily = 'vit' | 'deit' | 'beit' | 'clip' | 'siglip' | 'vilt' | 'blip';

/** A fully resolved processor configuration: every field has its value (config value or class default). */
export interface ImageProcessorConfig {
  image_processor_type: string;
  family: ProcessorFamily;
  do_resize: boolean;
  size: SizeDict;
  resample: number;
  do_center_crop: boolean;
  crop_size: { height: number; width: number };
  do_rescale: boolean;
  rescale_factor: number;
  do_normalize: boolean;
  image_mean: number[];
  image_std: number[];
  do_convert_rgb: boolean;
  /** ViLT only. */
  size_divisor: number;
  /** ViLT only: pad the batch to its largest image and return pixel_mask. */
  do_pad: boolean;
}

const IMAGENET_STANDARD = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
const IMAGENET_DEFAULT = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const OPENAI_CLIP = { mean: [0.48145466, 0.4578275, 0.40821073], std: [0.26862954, 0.26130258, 0.27577711] };

interface FamilyDefaults {
  className: string;
  size: SizeDict;
  /** how a bare integer `size` is read: a square, or the shortest edge. */
  intSizeIsSquare: boolean;
  resample: number;
  center_crop: boolean;
  crop: number;
  norm: { mean: number[]; std: number[] };
  convert_rgb: boolean;
}

// Class defaults from the transformers image processors (used where preprocessor_config.json omits a field).
const FAMILIES: Record<ProcessorFamily, FamilyDefaults> = {
  vit: {
    className: 'ViTImageProcessor',
    size: { height: 224, width: 224 },
    intSizeIsSquare: true,
    resample: 2,
    center_crop: false,
    crop: 224,
    norm: IMAGENET_STANDARD,
    convert_rgb: false,
  },
  deit: {
    className: 'DeiTImageProcessor',
    size: { height: 256, width: 256 },
    intSizeIsSquare: true,
    resample: 3,
    center_crop: true,
    crop: 224,
    norm: IMAGENET_DEFAULT,
    convert_rgb: false,
  },
  beit: {
    className: 'BeitImageProcessor',
    size: { height: 256, width: 256 },
    intSizeIsSquare: true,
    resample: 3,
    center_crop: true,
    crop: 224,
    norm: IMAGENET_STANDARD,
    convert_rgb: false,
  },
  clip: {
    className: 'CLIPImageProcessor',
    size: { shortest_edge: 224 },
    intSizeIsSquare: false,
    resample: 3,
    center_crop: true,
    crop: 224,
    norm: OPENAI_CLIP,
    convert_rgb: true,
  },
  siglip: {
    className: 'SiglipImageProcessor',
    size: { height: 224, width: 224 },
    intSizeIsSquare: true,
    resample: 3,
    center_crop: false,
    crop: 224,
    norm: IMAGENET_STANDARD,
    convert_rgb: false,
  },
  vilt: {
    className: 'ViltImageProcessor',
    size: { shortest_edge: 384 },
    intSizeIsSquare: false,
    resample: 3,
    center_crop: false,
    crop: 384,
    norm: IMAGENET_STANDARD,
    convert_rgb: false,
  },
  blip: {
    className: 'BlipImageProcessor',
    size: { height: 384, width: 384 },
    intSizeIsSquare: true,
    resample: 3,
    center_crop: false,
    crop: 384,
    norm: OPENAI_CLIP,
    convert_rgb: true,
  },
};

const TYPE_TO_FAMILY: Record<string, ProcessorFamily> = {
  vit: 'vit',
  deit: 'deit',
  beit: 'beit',
  clip: 'clip',
  siglip: 'siglip',
  vilt: 'vilt',
  blip: 'blip',
};

/** Maps ViTImageProcessor, ViTImageProcessorFast, ViTFeatureExtractor, ... to their family. */
export function familyOfType(type: string): ProcessorFamily | undefined {
  const stem = type
    .replace(/Fast$/, '')
    .replace(/(ImageProcessor|FeatureExtractor)$/, '')
    .toLowerCase();
  return TYPE_TO_FAMILY[stem];
}

const KNOWN_TYPES = Object.values(FAMILIES)
  .map((f) => f.className)
  .join(', ');

function fail(source: string, field: string, expected: string, got: unknown): never {
  throw new Error(`${source}: field '${field}' must be ${expected}, got ${JSON.stringify(got)}`);
}

function bool(src: string, raw: Record<string, unknown>, key: string, dflt: boolean): boolean {
  const v = raw[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') fail(src, key, 'true or false', v);
  return v;
}

function positiveInt(src: string, field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) fail(src, field, 'a positive integer', v);
  return v;
}

function sizeField(src: string, field: string, v: unknown, intIsSquare: boolean): SizeDict {
  if (typeof v === 'number') {
    const n = positiveInt(src, field, v);
    return intIsSquare ? { height: n, width: n } : { shortest_edge: n };
  }
  // Old configs write [height, width].
  if (Array.isArray(v)) {
    if (v.length !== 2) fail(src, field, '[height, width]', v);
    return { height: positiveInt(src, `${field}[0]`, v[0]), width: positiveInt(src, `${field}[1]`, v[1]) };
  }
  if (typeof v !== 'object' || v === null)
    fail(src, field, 'an integer or an object with height/width or shortest_edge', v);
  const o = v as Record<string, unknown>;
  const out: SizeDict = {};
  for (const k of ['height', 'width', 'shortest_edge', 'longest_edge'] as const) {
    if (o[k] !== undefined && o[k] !== null) out[k] = positiveInt(src, `${field}.${k}`, o[k]);
  }
  const hw = out.height !== undefined && out.width !== undefined;
  if (!hw && out.shortest_edge === undefined) fail(src, field, 'an object with {height, width} or {shortest_edge}', v);
  if ((out.height === undefined) !== (out.width === undefined))
    fail(src, field, 'an object with both height and width', v);
  return out;
}

function channelValues(src: string, field: string, v: unknown, dflt: number[]): number[] {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number' && Number.isFinite(v)) return [v, v, v];
  if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
    fail(src, field, 'a number or a list of 3 numbers', v);
  return v as number[];
}

/**
 * Resolves a parsed preprocessor_config.json into a full configuration. `source` names the file in errors;
 * `family` overrides the type named in the file (for configs that do not name one).
 */
export function parseImageProcessorConfig(
  raw: unknown,
  source = 'preprocessor_config.json',
  family?: ProcessorFamily,
): ImageProcessorConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new Error(`${source}: expected a JSON object`);
  const r = raw as Record<string, unknown>;
  const typeName = r.image_processor_type ?? r.feature_extractor_type;
  if (typeName !== undefined && typeof typeName !== 'string')
    fail(source, 'image_processor_type', 'a string', typeName);
  const fam = family ?? (typeName !== undefined ? familyOfType(typeName) : undefined);
  if (!fam) {
    throw new Error(
      typeName === undefined
        ? `${source}: no 'image_processor_type' or 'feature_extractor_type' field; name the processor family (supported: ${KNOWN_TYPES})`
        : `${source}: image_processor_type '${typeName}' is not supported (supported: ${KNOWN_TYPES}, their Fast variants and FeatureExtractor names)`,
    );
  }
  const d = FAMILIES[fam];
  const size = r.size === undefined || r.size === null ? d.size : sizeField(source, 'size', r.size, d.intSizeIsSquare);
  const resample = r.resample === undefined || r.resample === null ? d.resample : r.resample;
  if (typeof resample !== 'number' || !Number.isInteger(resample))
    fail(source, 'resample', 'a PIL resampling code (0 nearest, 2 bilinear, 3 bicubic, ...)', resample);
  try {
    resampleName(resample);
  } catch (e) {
    throw new Error(`${source}: field 'resample': ${(e as Error).message}`);
  }
  let crop = { height: d.crop, width: d.crop };
  if (r.crop_size !== undefined && r.crop_size !== null) {
    const c = sizeField(source, 'crop_size', r.crop_size, true);
    if (c.height === undefined || c.width === undefined)
      fail(source, 'crop_size', 'an integer or {height, width}', r.crop_size);
    crop = { height: c.height, width: c.width };
  }
  const rescaleFactor = r.rescale_factor ?? 1 / 255;
  if (typeof rescaleFactor !== 'number' || !Number.isFinite(rescaleFactor) || rescaleFactor === 0)
    fail(source, 'rescale_factor', 'a non-zero number', rescaleFactor);
  const std = channelValues(source, 'image_std', r.image_std, d.norm.std);
  if (std.some((s) => s === 0)) fail(source, 'image_std', 'non-zero numbers', std);
  const sizeDivisor = r.size_divisor ?? 32;
  const cfg: ImageProcessorConfig = {
    image_processor_type: typeof typeName === 'string' ? typeName : d.className,
    family: fam,
    do_resize: bool(source, r, 'do_resize', true),
    size,
    resample,
    do_center_crop: bool(source, r, 'do_center_crop', d.center_crop),
    crop_size: crop,
    do_rescale: bool(source, r, 'do_rescale', true),
    rescale_factor: rescaleFactor,
    do_normalize: bool(source, r, 'do_normalize', true),
    image_mean: channelValues(source, 'image_mean', r.image_mean, d.norm.mean),
    image_std: std,
    do_convert_rgb: bool(source, r, 'do_convert_rgb', d.convert_rgb),
    size_divisor: positiveInt(source, 'size_divisor', sizeDivisor),
    do_pad: fam === 'vilt' ? bool(source, r, 'do_pad', true) : false,
  };
  return cfg;
}

/** Reads preprocessor_config.json, given the file or the model folder that holds it. */
export function loadImageProcessorConfig(path: string, family?: ProcessorFamily): ImageProcessorConfig {
  let file = path;
  if (existsSync(path) && statSync(path).isDirectory()) {
    file = join(path, 'preprocessor_config.json');
    if (!existsSync(file)) throw new Error(`${path}: model folder has no preprocessor_config.json`);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read processor config: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  return parseImageProcessorConfig(raw, file, family);
}

/** [height, width] after the resize step for an image of height x width. */
export function resizedSize(cfg: ImageProcessorConfig, height: number, width: number): [number, number] {
  const s = cfg.size;
  if (cfg.family === 'vilt') {
    const shorter = s.shortest_edge ?? Math.min(s.height ?? 384, s.width ?? 384);
    return viltSize(height, width, shorter, cfg.size_divisor);
  }
  if (s.shortest_edge !== undefined && s.longest_edge !== undefined)
    return shortestLongestEdgeSize(height, width, s.shortest_edge, s.longest_edge);
  if (s.shortest_edge !== undefined) return shortestEdgeSize(height, width, s.shortest_edge);
  return [s.height!, s.width!];
}

export interface PixelBatch {
  /** N x 3 x H x W, row-major. */
  pixel_values: Float32Array;
  shape: [number, number, number, number];
  /** ViLT: N x H x W, 1 where a pixel belongs to the image, 0 in the padding (int64 as transformers returns it). */
  pixel_mask?: { data: BigInt64Array; shape: [number, number, number] };
}

export interface ProcessOptions {
  /** Whose arithmetic to reproduce: transformers' torchvision backend (default) or its PIL/NumPy backend. */
  backend?: Backend;
  /** Names for the images, used in error messages. */
  names?: string[];
}

function resizeWith(img: PixelImage, h: number, w: number, resample: number, backend: Backend): PixelImage {
  const name = resampleName(resample);
  if (backend === 'pil') return resizePil(img, w, h, name);
  if (name !== 'nearest' && name !== 'bilinear' && name !== 'bicubic') {
    throw new Error(`resample ${resample} (${name}) exists only in the PIL backend of transformers; use backend 'pil'`);
  }
  return resizeTorchvision(img, w, h, name);
}

/** Resize, crop and convert one decoded image; returns CHW float32 and its height and width. */
export function processImage(
  cfg: ImageProcessorConfig,
  image: RgbImage,
  backend: Backend = 'torchvision',
): { data: Float32Array; height: number; width: number } {
  let img = asPixelImage(image);
  checkImage(img);
  if (cfg.do_resize) {
    const [h, w] = resizedSize(cfg, img.height, img.width);
    if (h <= 0 || w <= 0)
      throw new Error(
        `resize of a ${img.width}x${img.height} image gives an empty ${w}x${h} image (size ${JSON.stringify(cfg.size)})`,
      );
    img = resizeWith(img, h, w, cfg.resample, backend);
  }
  if (cfg.do_center_crop) img = centerCrop(img, cfg.crop_size.height, cfg.crop_size.width, backend);
  const data = toPixelValues(
    img,
    {
      doRescale: cfg.do_rescale,
      rescaleFactor: cfg.rescale_factor,
      doNormalize: cfg.do_normalize,
      mean: cfg.image_mean,
      std: cfg.image_std,
    },
    backend,
  );
  return { data, height: img.height, width: img.width };
}

/** Processes a batch as the processor's __call__ with return_tensors='pt'. */
export function processImages(cfg: ImageProcessorConfig, images: RgbImage[], opts: ProcessOptions = {}): PixelBatch {
  if (images.length === 0) throw new Error('no images to process');
  const backend = opts.backend ?? 'torchvision';
  const name = (i: number): string => opts.names?.[i] ?? `image ${i}`;
  const each = images.map((im, i) => {
    try {
      return processImage(cfg, im, backend);
    } catch (e) {
      throw new Error(`${name(i)}: ${(e as Error).message}`);
    }
  });
  const n = each.length;
  if (cfg.do_pad) {
    const H = Math.max(...each.map((e) => e.height));
    const W = Math.max(...each.map((e) => e.width));
    const pv = new Float32Array(n * 3 * H * W);
    const mask = new BigInt64Array(n * H * W);
    each.forEach((e, i) => {
      for (let c = 0; c < 3; c++) {
        for (let y = 0; y < e.height; y++) {
          const from = (c * e.height + y) * e.width;
          pv.set(e.data.subarray(from, from + e.width), ((i * 3 + c) * H + y) * W);
        }
      }
      for (let y = 0; y < e.height; y++) mask.fill(1n, (i * H + y) * W, (i * H + y) * W + e.width);
    });
    return { pixel_values: pv, shape: [n, 3, H, W], pixel_mask: { data: mask, shape: [n, H, W] } };
  }
  const { height: H, width: W } = each[0]!;
  const odd = each.findIndex((e) => e.height !== H || e.width !== W);
  if (odd >= 0) {
    throw new Error(
      `${name(odd)} becomes ${each[odd]!.width}x${each[odd]!.height} but ${name(0)} becomes ${W}x${H}: the processor makes images of different sizes and does not pad them, so they cannot be batched`,
    );
  }
  const pv = new Float32Array(n * 3 * H * W);
  each.forEach((e, i) => pv.set(e.data, i * 3 * H * W));
  return { pixel_values: pv, shape: [n, 3, H, W] };
}
