// Image processors from preprocessor_config.json: config resolution, output-size rules, crop, float arithmetic,
// ViLT padding with pixel_mask, and errors that name the file and field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PixelImage, RgbImage } from '../../src/vision/image.js';
import {
  loadImageProcessorConfig,
  parseImageProcessorConfig,
  processImages,
  resizedSize,
} from '../../src/vision/processor.js';
import {
  centerCrop,
  shortestEdgeSize,
  shortestLongestEdgeSize,
  toPixelValues,
  viltSize,
} from '../../src/vision/transforms.js';
import { GOLDEN } from '../helpers/cli.js';

const MODELS = join(GOLDEN, 'models');

function synthetic(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 29 + (i >> 5)) % 256;
  return { width, height, data };
}

test('golden model folders resolve to their families with the file values', () => {
  const clip = loadImageProcessorConfig(join(MODELS, 'clip'));
  assert.equal(clip.family, 'clip');
  assert.deepEqual(clip.size, { shortest_edge: 32 });
  assert.deepEqual(clip.crop_size, { height: 32, width: 32 });
  assert.equal(clip.do_center_crop, true);
  assert.equal(clip.resample, 3);
  const vilt = loadImageProcessorConfig(join(MODELS, 'vilt', 'preprocessor_config.json'));
  assert.equal(vilt.family, 'vilt');
  assert.equal(vilt.size_divisor, 8);
  assert.equal(vilt.do_pad, true);
  assert.equal(loadImageProcessorConfig(join(MODELS, 'vit')).resample, 2);
  assert.equal(loadImageProcessorConfig(join(MODELS, 'siglip')).family, 'siglip');
  assert.deepEqual(loadImageProcessorConfig(join(MODELS, 'blip-itm')).size, { height: 32, width: 32 });
});

test('class defaults fill missing fields; integer sizes follow each class (square or shortest edge)', () => {
  const deit = parseImageProcessorConfig({ image_processor_type: 'DeiTImageProcessor' });
  assert.deepEqual(deit.size, { height: 256, width: 256 });
  assert.deepEqual(deit.crop_size, { height: 224, width: 224 });
  assert.deepEqual(deit.image_mean, [0.485, 0.456, 0.406]);
  assert.equal(deit.do_center_crop, true);
  const beit = parseImageProcessorConfig({ image_processor_type: 'BeitImageProcessorFast', size: 64, crop_size: 48 });
  assert.deepEqual(
    [beit.family, beit.size, beit.crop_size],
    ['beit', { height: 64, width: 64 }, { height: 48, width: 48 }],
  );
  const clip = parseImageProcessorConfig({ feature_extractor_type: 'CLIPFeatureExtractor', size: 224 });
  assert.deepEqual(clip.size, { shortest_edge: 224 });
  assert.equal(clip.do_convert_rgb, true);
  const vit = parseImageProcessorConfig({
    image_processor_type: 'ViTImageProcessor',
    size: [20, 30],
    image_mean: 0.25,
  });
  assert.deepEqual(vit.size, { height: 20, width: 30 });
  assert.deepEqual(vit.image_mean, [0.25, 0.25, 0.25]);
  assert.equal(parseImageProcessorConfig({ size: 8 }, 'x.json', 'vilt').size.shortest_edge, 8);
});

test('bad configs name the file and the field', () => {
  assert.throws(
    () => parseImageProcessorConfig({ image_processor_type: 'DetrImageProcessor' }, 'm/preprocessor_config.json'),
    /m\/preprocessor_config.json: image_processor_type 'DetrImageProcessor' is not supported \(supported: ViTImageProcessor, /,
  );
  assert.throws(
    () => parseImageProcessorConfig({}, 'a.json'),
    /a.json: no 'image_processor_type' or 'feature_extractor_type' field/,
  );
  assert.throws(
    () => parseImageProcessorConfig({ image_processor_type: 'ViTImageProcessor', resample: 7 }, 'a.json'),
    /a.json: field 'resample': unknown resample code 7/,
  );
  assert.throws(
    () => parseImageProcessorConfig({ image_processor_type: 'ViTImageProcessor', size: { height: 10 } }, 'a.json'),
    /a.json: field 'size' must be an object with \{height, width\} or \{shortest_edge\}/,
  );
  assert.throws(
    () => parseImageProcessorConfig({ image_processor_type: 'ViTImageProcessor', image_std: [1, 0, 1] }, 'a.json'),
    /field 'image_std' must be non-zero numbers/,
  );
  assert.throws(
    () => parseImageProcessorConfig({ image_processor_type: 'ViTImageProcessor', do_resize: 'yes' }, 'a.json'),
    /field 'do_resize' must be true or false, got "yes"/,
  );
  const dir = mkdtempSync(join(tmpdir(), 'tandem-proc-'));
  writeFileSync(join(dir, 'preprocessor_config.json'), '{"size": ');
  assert.throws(
    () => loadImageProcessorConfig(dir),
    (e: Error) => e.message.startsWith(join(dir, 'preprocessor_config.json') + ': not valid JSON'),
  );
  assert.throws(() => loadImageProcessorConfig(join(dir, 'nothing')), /nothing: cannot read processor config/);
});

test('output size rules: shortest edge, shortest+longest edge, ViLT', () => {
  assert.deepEqual(shortestEdgeSize(48, 64, 32), [32, 42]); // int(32 * 64 / 48) = 42
  assert.deepEqual(shortestEdgeSize(53, 37, 32), [45, 32]); // int(32 * 53 / 37) = 45
  assert.deepEqual(shortestEdgeSize(100, 1000, 50, 200), [20, 200]); // 50 x 500 over max 200: int(200 * 50 / 500) x 200
  assert.deepEqual(shortestLongestEdgeSize(100, 400, 50, 100), [25, 100]);
  assert.deepEqual(shortestLongestEdgeSize(300, 200, 100, 1000), [150, 100]);
  assert.deepEqual(viltSize(480, 640, 384, 32), [384, 512]);
  // Longer side capped at int(1333 / 800 * 384) = 639: 63.9 x 639 -> 64 x 639 -> multiples of 32.
  assert.deepEqual(viltSize(100, 1000, 384, 32), [64, 608]);
  const vilt = loadImageProcessorConfig(join(MODELS, 'vilt'));
  // 33 wide -> 32 x 77.6, capped at int(1333 / 800 * 32) = 53 -> 21.9 x 53 -> 22 x 53 -> multiples of 8: 16 x 48.
  assert.deepEqual(resizedSize(vilt, 80, 33), [48, 16]);
});

test('centre crop offsets truncate; padding of a too-small image differs between backends by where the odd row goes', () => {
  const img: PixelImage = { width: 5, height: 4, channels: 1, data: Uint8Array.from({ length: 20 }, (_, i) => i + 1) };
  assert.deepEqual([...centerCrop(img, 2, 2, 'torchvision').data], [7, 8, 12, 13]); // top 1, left 1
  assert.deepEqual([...centerCrop(img, 3, 4, 'pil').data], [1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 13, 14]); // top 0, left 0
  const tiny: PixelImage = { width: 1, height: 1, channels: 1, data: Uint8Array.from([9]) };
  // Crop 2x2 around one pixel: PIL backend pads top/left by ceil(1/2) = 1, torchvision by floor(1/2) = 0.
  assert.deepEqual([...centerCrop(tiny, 2, 2, 'pil').data], [0, 0, 0, 9]);
  assert.deepEqual([...centerCrop(tiny, 2, 2, 'torchvision').data], [9, 0, 0, 0]);
});

test('rescale + normalise in float32 as each backend rounds', () => {
  const img: PixelImage = {
    width: 3,
    height: 1,
    channels: 3,
    data: Uint8Array.from([0, 255, 128, 255, 0, 128, 128, 128, 128]),
  };
  const o = { doRescale: true, rescaleFactor: 1 / 255, doNormalize: true, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
  const tv = toPixelValues(img, o, 'torchvision');
  // CHW: channel 0 holds pixels 0, 1, 2 = 0, 255, 128.
  assert.deepEqual([...tv.subarray(0, 3)], [-1, 1, Math.fround(0.5 / 127.5)]);
  const pil = toPixelValues(img, o, 'pil');
  for (let i = 0; i < 9; i++) assert.ok(Math.abs(pil[i]! - tv[i]!) < 1e-6);
  const rescaleOnly = toPixelValues(img, { ...o, doNormalize: false }, 'torchvision');
  assert.equal(rescaleOnly[1], Math.fround(255 * Math.fround(1 / 255)));
  assert.equal(toPixelValues(img, { ...o, doRescale: false, doNormalize: false }, 'pil')[2], 128);
});

test('ViLT pads a batch of different sizes to the largest and returns an int64 pixel_mask', () => {
  const cfg = loadImageProcessorConfig(join(MODELS, 'vilt'));
  const a = synthetic(64, 48); // -> 32 x 42.67 -> 32 x 43 -> 32 x 40
  const b = synthetic(33, 80); // -> 77.6 x 32 capped at 53 -> 53 x 21.9 -> 53 x 22 -> 48 x 16
  assert.deepEqual(resizedSize(cfg, 48, 64), [32, 40]);
  assert.deepEqual(resizedSize(cfg, 80, 33), [48, 16]);
  const out = processImages(cfg, [a, b]);
  assert.deepEqual(out.shape, [2, 3, 48, 40]);
  assert.ok(out.pixel_mask);
  assert.deepEqual(out.pixel_mask.shape, [2, 48, 40]);
  const ones = (i: number): number =>
    out.pixel_mask!.data.subarray(i * 48 * 40, (i + 1) * 48 * 40).reduce((s, v) => s + Number(v), 0);
  assert.equal(ones(0), 32 * 40);
  assert.equal(ones(1), 48 * 16);
  assert.equal(out.pixel_mask.data[0 * 48 * 40 + 31 * 40 + 39], 1n);
  assert.equal(out.pixel_mask.data[0 * 48 * 40 + 32 * 40 + 0], 0n);
  // Padding is zero after normalisation; the image region is not.
  assert.equal(out.pixel_values[(0 * 3 + 1) * 48 * 40 + 40 * 40 + 5], 0);
  assert.equal(out.pixel_values[(1 * 3 + 2) * 48 * 40 + 10 * 40 + 30], 0);
  const alone = processImages(cfg, [b]);
  assert.deepEqual(alone.shape, [1, 3, 48, 16]);
  assert.equal(alone.pixel_values[5 * 16 + 3], out.pixel_values[(3 * 48 + 5) * 40 + 3]);
});

test('processors without padding refuse a batch whose images come out in different sizes', () => {
  const cfg = parseImageProcessorConfig({
    image_processor_type: 'CLIPImageProcessor',
    size: { shortest_edge: 16 },
    do_center_crop: false,
  });
  assert.throws(
    () => processImages(cfg, [synthetic(20, 20), synthetic(40, 20)], { names: ['x.png', 'y.png'] }),
    /y.png becomes 32x16 but x.png becomes 16x16/,
  );
  const ok = processImages(cfg, [synthetic(20, 20), synthetic(30, 30)]);
  assert.deepEqual(ok.shape, [2, 3, 16, 16]);
  assert.equal(ok.pixel_mask, undefined);
});

test('DeiT-style resize then centre crop; filters only PIL has need the pil backend', () => {
  const cfg = parseImageProcessorConfig({
    image_processor_type: 'DeiTImageProcessor',
    size: { height: 20, width: 20 },
    crop_size: { height: 12, width: 12 },
  });
  const out = processImages(cfg, [synthetic(50, 30)]);
  assert.deepEqual(out.shape, [1, 3, 12, 12]);
  const lanczos = { ...cfg, resample: 1 };
  assert.throws(
    () => processImages(lanczos, [synthetic(50, 30)], { names: ['p.jpg'] }),
    /p.jpg: resample 1 \(lanczos\) exists only in the PIL backend/,
  );
  assert.deepEqual(processImages(lanczos, [synthetic(50, 30)], { backend: 'pil' }).shape, [1, 3, 12, 12]);
  assert.throws(() => processImages(cfg, []), /no images/);
});
