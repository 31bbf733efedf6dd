// `tandem preprocess` end to end: the golden images through the golden model folders' preprocessor configs,
// compared with transformers' pixel_values; ViLT's pixel_mask; errors and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '../../src/io/safetensors.js';
import { GOLDEN, runCli } from '../helpers/cli.js';

const IMAGES = join(GOLDEN, 'images');
const NAMES = ['a.jpg', 'b.png', 'c.png', 'd.jpg', 'e.jpg', 'f.png'];
const tmp = mkdtempSync(join(tmpdir(), 'tandem-preprocess-'));
const ref = readSafetensors(join(IMAGES, 'image_reference.safetensors')).tensors;

function f32(buf: Buffer): Float32Array {
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

for (const model of ['vit', 'clip'] as const) {
  for (const backend of ['torchvision', 'pil'] as const) {
    test(`${model} (${backend} backend): pixel_values of all six images against transformers`, () => {
      const out = join(tmp, `${model}-${backend}.safetensors`);
      const r = runCli([
        'preprocess',
        '--processor',
        join(GOLDEN, 'models', model),
        '--backend',
        backend,
        '--out',
        out,
        '--json',
        ...NAMES.map((n) => join(IMAGES, n)),
      ]);
      assert.equal(r.status, 0, r.stderr);
      const summary = JSON.parse(r.stdout) as { pixel_values: number[]; images: { width: number }[] };
      assert.deepEqual(summary.pixel_values, [6, 3, 32, 32]);
      assert.equal(summary.images[0]!.width, 64);
      const file = readSafetensors(out);
      assert.deepEqual([...file.tensors.keys()], ['pixel_values']);
      const pv = file.tensors.get('pixel_values')!;
      assert.equal(pv.dtype, 'float32');
      assert.deepEqual(pv.shape, [6, 3, 32, 32]);
      assert.equal(file.metadata.backend, backend);
      const got = f32(pv.data);
      let worst = 0;
      NAMES.forEach((name, i) => {
        const want = f32(ref.get(`${name}.${model}_pixel_values`)!.data);
        let max = 0;
        for (let k = 0; k < want.length; k++) max = Math.max(max, Math.abs(got[i * want.length + k]! - want[k]!));
        console.log(`tandem preprocess ${model} ${backend} ${name}: max abs diff ${max.toExponential(3)}`);
        worst = Math.max(worst, max);
      });
      if (backend === 'torchvision') assert.equal(worst, 0);
      else assert.ok(worst < 0.02, `worst ${worst}`);
    });
  }
}

test('ViLT writes pixel_mask (int64) for images of different sizes', () => {
  const out = join(tmp, 'vilt.safetensors');
  const r = runCli([
    'preprocess',
    '--processor',
    join(GOLDEN, 'models', 'vilt', 'preprocessor_config.json'),
    '--out',
    out,
    join(IMAGES, 'a.jpg'),
    join(IMAGES, 'e.jpg'),
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /pixel_values \[2, 3, 48, 40\], pixel_mask \[2, 48, 40\] \(ViltImageProcessor, torchvision backend\)/,
  );
  const t = readSafetensors(out).tensors;
  const mask = t.get('pixel_mask')!;
  assert.equal(mask.dtype, 'int64');
  assert.deepEqual(mask.shape, [2, 48, 40]);
  const m = new BigInt64Array(
    mask.data.buffer.slice(mask.data.byteOffset, mask.data.byteOffset + mask.data.byteLength),
  );
  const ones = (i: number): number => m.subarray(i * 1920, (i + 1) * 1920).reduce((s, v) => s + Number(v), 0);
  assert.deepEqual([ones(0), ones(1)], [32 * 40, 48 * 16]);
});

test('bad images and bad usage exit 2 naming the file; nothing is written', () => {
  const bad = join(tmp, 'broken.jpg');
  writeFileSync(bad, readFileSync(join(IMAGES, 'a.jpg')).subarray(0, 900));
  const out = join(tmp, 'never.safetensors');
  const r = runCli([
    'preprocess',
    '--processor',
    join(GOLDEN, 'models', 'clip'),
    '--out',
    out,
    join(IMAGES, 'a.jpg'),
    bad,
  ]);
  assert.equal(r.status, 2);
  assert.match(
    r.stderr,
    new RegExp(`tandem preprocess: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: truncated jpeg file`),
  );
  assert.equal(existsSync(out), false);
  const empty = join(tmp, 'empty.png');
  writeFileSync(empty, '');
  const e = runCli(['preprocess', '--processor', join(GOLDEN, 'models', 'clip'), '--out', out, empty]);
  assert.equal(e.status, 2);
  assert.match(e.stderr, /empty\.png: empty file \(0 bytes\)/);
  const big = runCli([
    'preprocess',
    '--processor',
    join(GOLDEN, 'models', 'clip'),
    '--max-pixels',
    '1000',
    '--out',
    out,
    join(IMAGES, 'a.jpg'),
  ]);
  assert.equal(big.status, 2);
  assert.match(big.stderr, /a\.jpg: image is 64x48 = 3072 pixels, over the limit of 1000/);
  assert.match(big.stderr, /--max-pixels N allows it/);
  const cfg = join(tmp, 'preprocessor_config.json');
  writeFileSync(cfg, JSON.stringify({ image_processor_type: 'ViTImageProcessor', resample: 42 }));
  const c = runCli(['preprocess', '--processor', cfg, '--out', out, join(IMAGES, 'a.jpg')]);
  assert.equal(c.status, 2);
  assert.match(c.stderr, /preprocessor_config\.json: field 'resample': unknown resample code 42/);
  assert.equal(runCli(['preprocess', '--processor', cfg, join(IMAGES, 'a.jpg')]).status, 2);
  assert.match(runCli(['preprocess', '--out', out, join(IMAGES, 'a.jpg')]).stderr, /--processor is required/);
  assert.match(
    runCli(['preprocess', '--processor', join(GOLDEN, 'models', 'vit'), '--out', out]).stderr,
    /no IMAGE given/,
  );
  assert.match(
    runCli([
      'preprocess',
      '--processor',
      join(GOLDEN, 'models', 'vit'),
      '--backend',
      'cv2',
      '--out',
      out,
      join(IMAGES, 'a.jpg'),
    ]).stderr,
    /--backend cv2: expected one of torchvision, pil/,
  );
  assert.equal(existsSync(out), false);
  const h = runCli(['preprocess', '--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /Usage: tandem preprocess --processor/);
});

test('--background composites transparent pixels (RGBA c.png) instead of dropping alpha', () => {
  const drop = join(tmp, 'drop.safetensors');
  const white = join(tmp, 'white.safetensors');
  const args = ['preprocess', '--processor', join(GOLDEN, 'models', 'vit'), join(IMAGES, 'c.png'), '--out'];
  assert.equal(runCli([...args, drop]).status, 0);
  assert.equal(runCli([...args, white, '--background', 'white']).status, 0);
  const a = f32(readSafetensors(drop).tensors.get('pixel_values')!.data);
  const b = f32(readSafetensors(white).tensors.get('pixel_values')!.data);
  let brighter = 0;
  for (let i = 0; i < a.length; i++) if (b[i]! > a[i]! + 0.01) brighter++;
  assert.ok(brighter > 100, `${brighter} values brighter on white`);
  assert.match(
    runCli([...args, white, '--background', '300,0,0']).stderr,
    /--background expects white, black or R,G,B/,
  );
});

test('a Hub id is found in the Hub cache (offline), a missing one fails with exit 1, a missing path with exit 2', () => {
  const cache = mkdtempSync(join(tmpdir(), 'tandem-hub-'));
  const commit = '0123456789abcdef0123456789abcdef01234567';
  const repo = join(cache, 'models--org--tiny-clip');
  mkdirSync(join(repo, 'snapshots', commit), { recursive: true });
  mkdirSync(join(repo, 'refs'));
  writeFileSync(join(repo, 'refs', 'main'), commit);
  copyFileSync(
    join(GOLDEN, 'models', 'clip', 'preprocessor_config.json'),
    join(repo, 'snapshots', commit, 'preprocessor_config.json'),
  );
  const env = { HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' };
  const out = join(tmp, 'hub.safetensors');
  const r = runCli(['preprocess', '--processor', 'org/tiny-clip', '--out', out, join(IMAGES, 'b.png')], { env });
  assert.equal(r.status, 0, r.stderr);
  const got = f32(readSafetensors(out).tensors.get('pixel_values')!.data);
  assert.deepEqual(got, f32(ref.get('b.png.clip_pixel_values')!.data));
  const missing = runCli(['preprocess', '--processor', 'org/absent', '--out', out, join(IMAGES, 'b.png')], { env });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /org\/absent@main is not in the cache/);
  const path = runCli(
    ['preprocess', '--processor', './nowhere/preprocessor_config.json', '--out', out, join(IMAGES, 'b.png')],
    { env },
  );
  assert.equal(path.status, 2);
  assert.match(path.stderr, /nowhere\/preprocessor_config.json: no such file or folder/);
});
