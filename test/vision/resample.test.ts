// Resampling: Pillow-exact (checked against outputs of Pillow 12.3's Image.resize, stored as hashes) and
// torchvision-exact (hand-computed weights), on hand-checkable rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PIL_RESAMPLE, resampleName, resizePil } from '../../src/vision/resample.js';
import { resizeTorchvision } from '../../src/vision/resample-torch.js';
import type { PixelImage } from '../../src/vision/image.js';

/** The same pseudo-random bytes the Pillow script used (a 31-bit LCG). */
function lcgBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = BigInt(seed);
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245n + 12345n) % 2147483648n;
    out[i] = Number((s >> 16n) & 255n);
  }
  return out;
}

// [w, h, outW, outH, PIL filter code, box, seed, first 16 hex of sha256(Pillow output)], produced by
// Image.frombytes('RGB', (w, h), lcgBytes(w*h*3, seed)).resize((outW, outH), filter, box=box) in Pillow 12.3.0.
const PILLOW_CASES: [number, number, number, number, number, number[] | undefined, number, string][] = [
  [37, 53, 32, 32, 0, undefined, 37530, 'a33a6fe9fe8ece71'],
  [17, 9, 40, 23, 0, undefined, 17090, '01e7bf7a17516602'],
  [64, 48, 21, 32, 0, undefined, 64480, '7f0ab6cda6747433'],
  [33, 80, 32, 77, 0, undefined, 33800, 'e0d828697686adc4'],
  [50, 50, 50, 31, 0, undefined, 50500, '5b44a81d87132bfb'],
  [29, 31, 12, 12, 0, [3.5, 2.25, 27.0, 30.5], 29310, 'c17a30b5fc7ea929'],
  [37, 53, 32, 32, 1, undefined, 37531, '0a59a74c40b50525'],
  [17, 9, 40, 23, 1, undefined, 17091, '84bb3c0ee35ff421'],
  [64, 48, 21, 32, 1, undefined, 64481, '21f8d09814012e16'],
  [33, 80, 32, 77, 1, undefined, 33801, '7924f2708b2129f7'],
  [50, 50, 50, 31, 1, undefined, 50501, '43ccc31c9e8c9fa4'],
  [29, 31, 12, 12, 1, [3.5, 2.25, 27.0, 30.5], 29311, '398fce9435ee2253'],
  [37, 53, 32, 32, 2, undefined, 37532, '0caece5d9dd67121'],
  [17, 9, 40, 23, 2, undefined, 17092, '731cdd0beba5fd0a'],
  [64, 48, 21, 32, 2, undefined, 64482, '64fb0afdeaca6e65'],
  [33, 80, 32, 77, 2, undefined, 33802, 'edd0e07205a1930a'],
  [50, 50, 50, 31, 2, undefined, 50502, '495fb604de7a3b8e'],
  [29, 31, 12, 12, 2, [3.5, 2.25, 27.0, 30.5], 29312, '9c2ed6a1fcdd9140'],
  [37, 53, 32, 32, 3, undefined, 37533, '07379c692850234d'],
  [17, 9, 40, 23, 3, undefined, 17093, '47c45f052046cf78'],
  [64, 48, 21, 32, 3, undefined, 64483, 'a619183203b80aea'],
  [33, 80, 32, 77, 3, undefined, 33803, 'a319f892ab1dc35c'],
  [50, 50, 50, 31, 3, undefined, 50503, '320b9b0ad2733eb7'],
  [29, 31, 12, 12, 3, [3.5, 2.25, 27.0, 30.5], 29313, '9adf4df5b7b7ec59'],
  [37, 53, 32, 32, 4, undefined, 37534, '0157933ce13279f3'],
  [17, 9, 40, 23, 4, undefined, 17094, '4c0b3f1db2823938'],
  [64, 48, 21, 32, 4, undefined, 64484, '1423437b0ec5c8bf'],
  [33, 80, 32, 77, 4, undefined, 33804, '1c211ee3025bd39c'],
  [50, 50, 50, 31, 4, undefined, 50504, 'cdab9382f36013ec'],
  [29, 31, 12, 12, 4, [3.5, 2.25, 27.0, 30.5], 29314, '9515b984fc2b2489'],
  [37, 53, 32, 32, 5, undefined, 37535, 'b62080474a6c1426'],
  [17, 9, 40, 23, 5, undefined, 17095, 'dd725daf4a8a761e'],
  [64, 48, 21, 32, 5, undefined, 64485, 'afb08adb4559281d'],
  [33, 80, 32, 77, 5, undefined, 33805, '301a70d7e5887786'],
  [50, 50, 50, 31, 5, undefined, 50505, '35bc7aed6f58b634'],
  [29, 31, 12, 12, 5, [3.5, 2.25, 27.0, 30.5], 29315, '91cd9202ee2776d3'],
];

test('resizePil reproduces Pillow byte for byte (all six filters, down- and upscaling, a box)', () => {
  for (const [w, h, ow, oh, f, box, seed, hash] of PILLOW_CASES) {
    const src: PixelImage = { width: w, height: h, channels: 3, data: lcgBytes(w * h * 3, seed) };
    const out = resizePil(src, ow, oh, f, box);
    assert.equal(out.data.length, ow * oh * 3);
    const got = createHash('sha256').update(out.data).digest('hex').slice(0, 16);
    assert.equal(got, hash, `${w}x${h} -> ${ow}x${oh} with ${resampleName(f)}${box ? ` box ${box}` : ''}`);
  }
});

const row = (values: number[]): PixelImage => ({
  width: values.length,
  height: 1,
  channels: 1,
  data: Uint8Array.from(values),
});

test('bilinear 4 -> 2 uses the antialiasing support: weights 3/7, 3/7, 1/7', () => {
  // out[0] = (0*3 + 100*3 + 200) / 7 = 71.4, out[1] = (100 + 200*3 + 100*3) / 7 = 142.9
  assert.deepEqual([...resizePil(row([0, 100, 200, 100]), 2, 1, 'bilinear').data], [71, 143]);
  assert.deepEqual([...resizeTorchvision(row([0, 100, 200, 100]), 2, 1, 'bilinear').data], [71, 143]);
});

test('nearest samples pixel centres (Pillow) and floor((i + 0.5) * scale) (torch nearest-exact)', () => {
  assert.deepEqual([...resizePil(row([0, 100, 200, 50]), 2, 1, 'nearest').data], [100, 50]);
  assert.deepEqual([...resizePil(row([0, 100, 200, 50]), 3, 1, 'nearest').data], [0, 200, 50]);
  assert.deepEqual([...resizeTorchvision(row([0, 100, 200, 50]), 3, 1, 'nearest').data], [0, 200, 50]);
  assert.deepEqual([...resizePil(row([10, 20]), 4, 1, PIL_RESAMPLE.nearest).data], [10, 10, 20, 20]);
});

test('bicubic overshoot is clamped to 0..255 and a constant image stays constant', () => {
  const up = resizePil(row([0, 255, 255, 0]), 9, 1, 'bicubic').data;
  assert.ok(up.includes(255) && up.includes(0));
  const flat: PixelImage = { width: 7, height: 5, channels: 3, data: new Uint8Array(105).fill(77) };
  for (const f of ['bilinear', 'bicubic'] as const) {
    assert.ok(
      resizePil(flat, 3, 11, f).data.every((v) => v === 77),
      `pil ${f}`,
    );
    assert.ok(
      resizeTorchvision(flat, 3, 11, f).data.every((v) => v === 77),
      `torch ${f}`,
    );
  }
});

test('same size returns an equal copy; bad sizes and codes are refused with the value', () => {
  const src: PixelImage = { width: 3, height: 2, channels: 3, data: lcgBytes(18, 1) };
  const same = resizePil(src, 3, 2, 'bicubic');
  assert.deepEqual(same.data, src.data);
  assert.notEqual(same.data, src.data);
  assert.throws(() => resizePil(src, 0, 2), /positive integers, got 0x2/);
  assert.throws(() => resizePil(src, 2, 2, 9), /unknown resample code 9/);
  assert.throws(() => resizePil({ ...src, data: new Uint8Array(5) }, 2, 2), /expected 18 bytes/);
});

test('torch int16 weights and Pillow 22-bit weights round some pixels differently', () => {
  // Downscaling 37 -> 32 wide (as b.png in the golden images): the two agree within one level, not everywhere.
  const src: PixelImage = { width: 37, height: 53, channels: 3, data: lcgBytes(37 * 53 * 3, 5) };
  const a = resizePil(src, 32, 32, 'bilinear').data;
  const b = resizeTorchvision(src, 32, 32, 'bilinear').data;
  let max = 0;
  let differ = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    max = Math.max(max, d);
    if (d) differ++;
  }
  assert.equal(max, 1);
  assert.ok(differ > 0 && differ < a.length / 10, `${differ} of ${a.length} differ`);
});
