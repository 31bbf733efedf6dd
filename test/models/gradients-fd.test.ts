// Gradients of every family whose golden fixture has no reference gradients (RoBERTa, XLM-R, ViT, SigLIP,
// ViLT, LXMERT; BERT, CLIP and BLIP are compared with transformers' gradients in their own tests, ViT and BERT
// also with PyTorch's on the scaled fixtures): autograd against central finite differences in float64, on the
// golden checkpoints, for the largest-gradient element and one fixed element of tensors spread over the model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { manualSeed, noGrad, randn, tensor, tidy, type Tensor } from '../../src/tensor/index.js';
import { openCheckpoint } from '../../src/io/safetensors.js';
import { readModelConfig } from '../../src/io/model-folder.js';
import { loadSafetensorsFile } from '../../src/io/tensors.js';
import { familyFor } from '../../src/models/family.js';
import type { Module } from '../../src/nn/index.js';
import { GOLDEN } from '../helpers/cli.js';

type Outputs = Tensor[];
type Runner = (m: never, x: Map<string, Tensor>) => Outputs;

const RUN: Record<string, Runner> = {
  roberta: (m: { forward(x: object): { last_hidden_state: Tensor; pooler_output: Tensor | null } }, x) => {
    const o = m.forward({ input_ids: x.get('input_ids')!, attention_mask: x.get('attention_mask')! });
    return [o.last_hidden_state, o.pooler_output!];
  },
  vit: (m: { forward(p: Tensor): { last_hidden_state: Tensor; pooler_output: Tensor | null } }, x) => {
    const o = m.forward(x.get('pixel_values')!);
    return [o.last_hidden_state, o.pooler_output!];
  },
  siglip: (m: { forward(x: object): { text_embeds: Tensor; image_embeds: Tensor; logits_per_text: Tensor } }, x) => {
    const o = m.forward({ input_ids: x.get('input_ids')!, pixel_values: x.get('pixel_values')! });
    return [o.text_embeds, o.image_embeds, o.logits_per_text];
  },
  vilt: (m: { forward(x: object): { last_hidden_state: Tensor; pooler_output: Tensor } }, x) => {
    const o = m.forward({
      input_ids: x.get('input_ids')!,
      attention_mask: x.get('attention_mask')!,
      token_type_ids: x.get('token_type_ids')!,
      pixel_values: x.get('pixel_values')!,
      pixel_mask: x.get('pixel_mask')!,
    });
    return [o.last_hidden_state, o.pooler_output];
  },
  lxmert: (m: { forward(x: object): { language_output: Tensor; vision_output: Tensor; pooled_output: Tensor } }, x) => {
    const o = m.forward({
      input_ids: x.get('input_ids')!,
      attention_mask: x.get('attention_mask')!,
      token_type_ids: x.get('token_type_ids')!,
      visual_feats: x.get('visual_feats')!,
      visual_pos: x.get('visual_pos')!,
    });
    return [o.language_output, o.vision_output, o.pooled_output];
  },
};

const CASES: [fixture: string, runner: keyof typeof RUN][] = [
  ['roberta', 'roberta'],
  ['xlm-roberta', 'roberta'],
  ['vit', 'vit'],
  ['siglip', 'siglip'],
  ['vilt', 'vilt'],
  ['lxmert', 'lxmert'],
];
const TENSORS_CHECKED = 10;
const EPS = 1e-6;

for (const [fixture, runner] of CASES) {
  test(`${fixture}: autograd gradients equal central finite differences (float64)`, async () => {
    const dir = join(GOLDEN, 'models', fixture);
    const config = readModelConfig(dir);
    const fam = await familyFor(String(config['model_type']));
    const m = fam.build(config) as Module;
    const src = openCheckpoint(dir);
    try {
      fam.load(m as never, src);
    } finally {
      src.close();
    }
    m.to('float64');
    m.eval(); // dropout off; autograd is on
    const inputs = new Map(
      [...loadSafetensorsFile(join(dir, 'inputs.safetensors')).tensors].map(([k, v]) => [
        k,
        v.dtype === 'float32' ? v.to('float64') : v,
      ]),
    );
    const run = RUN[runner]! as (m: Module, x: Map<string, Tensor>) => Outputs;
    // The scalar: a fixed random weighting of every output (so no output's gradient can hide in a sum).
    manualSeed(16);
    const weights = tidy(() => run(m, inputs).map((o) => randn(o.shape, { dtype: 'float64' })));
    const loss = (): Tensor => {
      const outs = run(m, inputs);
      return outs.map((o, i) => o.mul(weights[i]!).sum()).reduce((a, b) => a.add(b));
    };
    tidy(() => loss().backward());
    const params = m.namedParameters();
    const picks = Array.from({ length: TENSORS_CHECKED }, (_, k) =>
      Math.round((k * (params.length - 1)) / (TENSORS_CHECKED - 1)),
    );
    let worst = { ratio: 0, what: '' };
    let checked = 0;
    const failures: string[] = [];
    for (const pi of new Set(picks)) {
      const [name, p] = params[pi]!;
      assert.ok(p.grad, `${fixture} ${name}: no gradient`);
      const g = p.grad.toArray() as number[];
      const base = p.toArray() as number[];
      let largest = 0;
      for (let i = 1; i < g.length; i++) if (Math.abs(g[i]!) > Math.abs(g[largest]!)) largest = i;
      for (const i of new Set([largest, (pi * 7919) % g.length])) {
        const at = (delta: number): number => {
          const v = [...base];
          v[i]! += delta;
          noGrad(() => p.copy_(tensor(v, { dtype: 'float64', shape: p.shape })));
          return tidy(() => noGrad(() => loss().item()));
        };
        const numeric = (at(EPS) - at(-EPS)) / (2 * EPS);
        noGrad(() => p.copy_(tensor(base, { dtype: 'float64', shape: p.shape })));
        const tol = 1e-5 * Math.abs(numeric) + 1e-8;
        const ratio = Math.abs(numeric - g[i]!) / tol;
        if (ratio >= worst.ratio)
          worst = { ratio, what: `${name}[${i}]: finite difference ${numeric}, autograd ${g[i]}` };
        if (!(ratio <= 1)) failures.push(`${name}[${i}]: finite difference ${numeric}, autograd ${g[i]}`);
        checked++;
      }
    }
    console.log(
      `${fixture}: ${checked} gradient elements vs finite differences (1e-5 rel + 1e-8 abs), worst at ${worst.ratio.toFixed(3)} of the tolerance: ${worst.what}`,
    );
    m.dispose();
    // every element is compared before failing, so a report names all the parameters that are off
    assert.deepEqual(failures, [], `${fixture}: ${failures.length} of ${checked} gradient elements off`);
  });
}
