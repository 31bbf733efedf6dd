// Every golden family on TANDEM_TEST_DEVICE (default cpu) in fp32 and under bf16 autocast: the fp32 outputs
// match the CPU fp32 outputs (which the family tests check against transformers to 1e-4), and the bf16
// outputs stay within a stated tolerance of fp32. BERT and ViT are also compared with PyTorch's own bf16
// autocast output on the same weights (test/fixtures/autocast, written by test/tools/gen_autocast_reference.py
// with Debian's PyTorch 1.13; TANDEM_AUTOCAST_REFERENCE points at another such file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad, tidy, withAutocast, type Tensor } from '../../src/tensor/index.js';
import { openCheckpoint } from '../../src/io/safetensors.js';
import { readModelConfig } from '../../src/io/model-folder.js';
import { loadSafetensorsFile } from '../../src/io/tensors.js';
import { familyFor } from '../../src/models/family.js';
import { GOLDEN } from '../helpers/cli.js';
import { onTestDevice, TEST_DEVICE } from '../helpers/device.js';

const MODELS = join(GOLDEN, 'models');
const FAMILIES = readdirSync(MODELS).filter((d) => existsSync(join(MODELS, d, 'model.safetensors')));

/** max |a - b| / max(1, max |b|): the error relative to the output's scale (absolute for small outputs). */
function scaledDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual(a.shape, b.shape);
  return tidy(() => {
    const x = a.to('cpu').float();
    const y = b.to('cpu').float();
    return x.sub(y).abs().max().item() / Math.max(1, y.abs().max().item());
  });
}

// bf16 keeps 8 significant bits (relative rounding 2^-9 = 2e-3 per value); through 2-layer tiny models with
// layer norms the observed worst is about 1e-2 of the output scale (printed below), so 4e-2 leaves room for
// other BLAS paths without letting an fp16/bf16 mix-up (fp16 overflow) or an op skipped by autocast pass.
const BF16_TOLERANCE = 4e-2;
// fp32 on a GPU: cuDNN convolutions may use TF32 (10-bit mantissa) by default.
const FP32_DEVICE_TOLERANCE = TEST_DEVICE === 'cpu' ? 0 : 5e-3;

async function loadFamily(name: string) {
  const dir = join(MODELS, name);
  const config = readModelConfig(dir);
  const family = await familyFor(String(config.model_type));
  const m = family.build(config);
  const src = openCheckpoint(dir);
  try {
    family.load(m, src);
  } finally {
    src.close();
  }
  m.eval();
  const inputs = loadSafetensorsFile(join(dir, 'inputs.safetensors')).tensors;
  return { family, m, inputs };
}

for (const name of FAMILIES) {
  test(`${name}: forward on ${TEST_DEVICE} in fp32 matches the CPU, and bf16 autocast is within ${BF16_TOLERANCE}`, async () => {
    const { family, m, inputs } = await loadFamily(name);
    const cpu = noGrad(() => family.forwardNamed(m, inputs));
    if (TEST_DEVICE !== 'cpu') m.to(TEST_DEVICE);
    const dev = new Map([...inputs].map(([k, t]) => [k, onTestDevice(t)]));
    const fp32 = noGrad(() => family.forwardNamed(m, dev));
    const bf16 = noGrad(() => withAutocast(TEST_DEVICE, 'bfloat16', () => family.forwardNamed(m, dev)));
    let lowSeen = false;
    let worst = 0;
    for (const [k, ref] of cpu) {
      if (!ref.dtype.startsWith('float') && ref.dtype !== 'bfloat16') continue;
      const d32 = scaledDiff(fp32.get(k)!, ref);
      assert.ok(d32 <= FP32_DEVICE_TOLERANCE + 1e-6, `${name} ${k}: fp32 on ${TEST_DEVICE} differs by ${d32}`);
      const low = bf16.get(k)!;
      if (low.dtype === 'bfloat16') lowSeen = true;
      const d16 = scaledDiff(low, ref);
      console.log(
        `${name} ${k}: fp32 ${TEST_DEVICE} vs cpu ${d32.toExponential(1)}; bf16 vs fp32 ${d16.toExponential(2)}`,
      );
      assert.ok(d16 <= BF16_TOLERANCE, `${name} ${k}: bf16 differs from fp32 by ${d16} of its scale`);
      worst = Math.max(worst, d16);
    }
    console.log(`${name}: worst bf16 difference ${worst.toExponential(2)} of the output scale`);
    assert.ok(lowSeen || worst > 0, `${name}: autocast changed nothing (no bf16 output, identical numbers)`);
    for (const t of [...cpu.values(), ...fp32.values(), ...bf16.values(), ...inputs.values(), ...dev.values()])
      t.dispose();
    m.dispose();
  });
}

const REF = process.env.TANDEM_AUTOCAST_REFERENCE ?? join(GOLDEN, '..', 'autocast', 'torch-1.13-bf16.safetensors');
test(
  'BERT and ViT under bf16 autocast match PyTorch 1.13 torch.autocast on the same weights',
  // CPU only: the reference is PyTorch's CPU autocast.
  { skip: TEST_DEVICE !== 'cpu' && 'the reference is CPU autocast' },
  async () => {
    const ref = loadSafetensorsFile(REF!).tensors;
    for (const name of ['bert', 'vit']) {
      const { family, m, inputs } = await loadFamily(name);
      const ours = noGrad(() => withAutocast('cpu', 'bfloat16', () => family.forwardNamed(m, inputs)));
      const fp32 = noGrad(() => family.forwardNamed(m, inputs));
      const outputs = [...ref.keys()].filter((k) => k.startsWith(`${name}.`));
      assert.ok(outputs.length > 0, `${REF} has no ${name}.* outputs`);
      for (const key of outputs) {
        const k = key.slice(name.length + 1);
        const theirs = ref.get(key)!;
        const d = scaledDiff(ours.get(k)!, theirs);
        const base = scaledDiff(fp32.get(k)!, theirs);
        console.log(
          `${key}: tandem bf16 vs PyTorch bf16 ${d.toExponential(2)} (tandem fp32 vs PyTorch bf16 ${base.toExponential(2)})`,
        );
        // Same op policy, same kernels: much closer to PyTorch's bf16 than fp32 is.
        assert.ok(d <= 1e-2, `${key}: ${d}`);
      }
      m.dispose();
    }
  },
);
