// One AdamW step from the golden BERT gradients reproduces transformers' param_after_step.* within 1e-6.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadSafetensorsFile } from '../../src/io/tensors.js';
import { AdamW } from '../../src/optim/index.js';
import { tidy } from '../../src/tensor/index.js';
import { GOLDEN } from '../helpers/cli.js';
import { onTestDevice, TEST_DEVICE } from '../helpers/device.js';

for (const family of ['bert', 'clip']) {
  test(`AdamW step reproduces ${family} param_after_step.* from grad.* (on ${TEST_DEVICE})`, () => {
    const params = loadSafetensorsFile(join(GOLDEN, 'models', family, 'model.safetensors')).tensors;
    const out = loadSafetensorsFile(join(GOLDEN, 'models', family, 'outputs.safetensors')).tensors;
    const names = [...params.keys()].filter((n) => out.has(`param_after_step.${n}`));
    assert.ok(names.length > 10, `expected many parameters, found ${names.length}`);
    const ps = names.map((n) => onTestDevice(params.get(n)!).requiresGrad_());
    names.forEach((n, i) => {
      const g = out.get(`grad.${n}`);
      if (g) ps[i]!.grad = onTestDevice(g);
    });
    const opt = new AdamW(ps, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 });
    opt.step();
    let worst = 0;
    let worstName = '';
    tidy(() => {
      names.forEach((n, i) => {
        const d = ps[i]!.to('cpu')
          .sub(out.get(`param_after_step.${n}`)!)
          .abs()
          .max()
          .item();
        if (d > worst) [worst, worstName] = [d, n];
      });
    });
    console.log(`${family}: ${names.length} parameters, max abs difference ${worst.toExponential(2)} (${worstName})`);
    assert.ok(worst <= 1e-6, `max abs difference ${worst} at ${worstName}`);
  });
}
