// `tandem preprocess`: images -> pixel_values (and pixel_mask) in a safetensors file, as a Hugging Face image
// processor makes them, for checking inputs against Python.
import { existsSync } from 'node:fs';
import { resolveModelFolder } from '../../io/hub.js';
import { writeSafetensors } from '../../io/safetensors.js';
import { decodeImage, DEFAULT_MAX_PIXELS, ImageDecodeError } from '../../vision/decode.js';
import {
  loadImageProcessorConfig,
  processImages,
  type Backend,
  type ImageProcessorConfig,
} from '../../vision/processor.js';
import type { RgbImage } from '../../vision/image.js';
import { CliError, EXIT } from '../args.js';
import { defineCommand, parseCommand } from '../options.js';

export const PREPROCESS = defineCommand({
  name: 'preprocess',
  usage: [
    'tandem preprocess --processor <preprocessor_config.json|model dir|Hub id> --out FILE.safetensors [options] IMAGE...',
  ],
  description: `Decodes the images (JPEG, PNG, WebP, GIF first frame, AVIF, TIFF; EXIF orientation left as stored, as Pillow) and turns them
into pixel_values (N x 3 x H x W, float32) as the Hugging Face image processor named by
preprocessor_config.json does (ViT, DeiT, BEiT, CLIP, SigLIP, ViLT, BLIP). ViLT (do_pad) pads the batch to
its largest image and also writes pixel_mask (N x H x W, int64, 1 on image pixels, 0 on padding).`,
  options: {
    processor: {
      type: 'string',
      required: true,
      placeholder: 'P',
      help: 'preprocessor_config.json, a model folder holding one, or a Hub model id',
    },
    out: {
      type: 'string',
      required: true,
      short: 'o',
      placeholder: 'FILE',
      help: 'the safetensors file to write (written atomically)',
    },
    backend: {
      type: 'enum',
      choices: ['torchvision', 'pil'],
      default: 'torchvision',
      help: 'whose arithmetic to reproduce: torchvision (transformers >= 5 default) or pil (the NumPy/PIL processors of transformers 4)',
    },
    background: {
      type: 'string',
      placeholder: 'RGB',
      help: "composite transparent images over this colour (white, black or R,G,B); by default the alpha channel is dropped, as PIL's convert('RGB') does",
    },
    'max-pixels': {
      type: 'int',
      default: DEFAULT_MAX_PIXELS,
      min: 1,
      help: 'refuse larger images (decompression bombs)',
    },
    json: { type: 'boolean', help: 'print a JSON summary instead of a line of text' },
  },
  positionals: { name: 'IMAGE', min: 1 },
  footer: 'Exit codes: 0 written, 1 failure, 2 bad usage or an image/config that cannot be used.',
});

export const specs = [PREPROCESS];

function parseBackground(v: string | undefined): [number, number, number] | undefined {
  if (v === undefined) return undefined;
  if (v === 'white') return [255, 255, 255];
  if (v === 'black') return [0, 0, 0];
  const parts = v.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 3 || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) {
    throw new CliError(`--background expects white, black or R,G,B with integers 0..255, got '${v}'`);
  }
  return parts as [number, number, number];
}

async function resolveProcessor(spec: string): Promise<ImageProcessorConfig> {
  let source = spec;
  if (!existsSync(spec) && (/^(\.{1,2}[\\/]|[\\/]|~)/.test(spec) || spec.endsWith('.json'))) {
    throw new CliError(`--processor: ${spec}: no such file or folder`);
  }
  if (!existsSync(spec)) {
    // Not a local path: a Hub id, fetched (only its processor config) into the Hub cache, or found there offline.
    try {
      source = await resolveModelFolder(spec, { allowPatterns: ['preprocessor_config.json'] });
    } catch (e) {
      throw new CliError(`--processor: ${(e as Error).message}`, EXIT.failure);
    }
  }
  try {
    return loadImageProcessorConfig(source);
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.usage);
  }
}

export async function run(argv: string[]): Promise<number> {
  const a = parseCommand(PREPROCESS, argv);
  if (!a) return EXIT.ok;
  const { values, positionals } = a;
  const backend: Backend = values.backend;
  const background = parseBackground(values.background);
  const maxPixels = values['max-pixels'];

  const cfg = await resolveProcessor(values.processor);
  const images: RgbImage[] = [];
  for (const file of positionals) {
    try {
      images.push(await decodeImage(file, { background, maxPixels }));
    } catch (e) {
      if (e instanceof ImageDecodeError)
        // the decoder speaks of its option; this command's flag for it is --max-pixels
        throw new CliError(e.message.replace('a higher maxPixels allows it', '--max-pixels N allows it'), EXIT.usage);
      throw e;
    }
  }
  let batch;
  try {
    batch = processImages(cfg, images, { backend, names: positionals });
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.usage);
  }
  const tensors: Record<string, { dtype: 'float32' | 'int64'; shape: number[]; data: ArrayBufferView }> = {
    pixel_values: { dtype: 'float32', shape: [...batch.shape], data: batch.pixel_values },
  };
  if (batch.pixel_mask)
    tensors.pixel_mask = { dtype: 'int64', shape: [...batch.pixel_mask.shape], data: batch.pixel_mask.data };
  const metadata = { image_processor_type: cfg.image_processor_type, backend, images: JSON.stringify(positionals) };
  try {
    writeSafetensors(values.out, tensors, metadata);
  } catch (e) {
    throw new CliError(`${values.out}: cannot write: ${(e as Error).message}`, EXIT.failure);
  }
  const summary = {
    out: values.out,
    image_processor_type: cfg.image_processor_type,
    backend,
    pixel_values: batch.shape,
    ...(batch.pixel_mask ? { pixel_mask: batch.pixel_mask.shape } : {}),
    images: positionals.map((file, i) => ({ file, width: images[i]!.width, height: images[i]!.height })),
  };
  if (values.json) console.log(JSON.stringify(summary));
  else
    console.log(
      `wrote ${values.out}: pixel_values [${batch.shape.join(', ')}]${batch.pixel_mask ? `, pixel_mask [${batch.pixel_mask.shape.join(', ')}]` : ''} (${cfg.image_processor_type}, ${backend} backend)`,
    );
  return EXIT.ok;
}
