// ITC, ITM, class-weighted CE, the weighted total and every gradient reproduce ../shared/golden/losses
// within 1e-5, computed with the objectives (engine ops).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadSafetensorsFile } from '../../src/io/tensors.js';
import {
  balancedClassWeights,
  classificationLoss,
  combineLosses,
  itcLoss,
  itmLoss,
} from '../../src/objectives/index.js';
import { tidy, type Tensor } from '../../src/tensor/index.js';
import { GOLDEN } from '../helpers/cli.js';
import { onTestDevice, TEST_DEVICE } from '../helpers/device.js';

// On TANDEM_TEST_DEVICE (default cpu); differences are taken on the CPU.
const g = new Map(
  [...loadSafetensorsFile(join(GOLDEN, 'losses.safetensors')).tensors].map(([k, t]) => [k, onTestDevice(t)]),
);
const maxDiff = (a: Tensor, b: Tensor) => tidy(() => a.to('cpu').sub(b.to('cpu').view(a.shape)).abs().max().item());

test(`losses and gradients match the reference within 1e-5 (on ${TEST_DEVICE})`, () => {
  const text = g.get('text_embeds')!.clone().requiresGrad_();
  const image = g.get('image_embeds')!.clone().requiresGrad_();
  const scale = g.get('logit_scale')!.clone().view([]).requiresGrad_();
  const cls = g.get('cls_logits')!.clone().requiresGrad_();
  const itmLogits = g.get('itm_logits')!.clone().requiresGrad_();
  const labels = g.get('cls_labels')!;
  const weights = balancedClassWeights(labels.toArray(), 3);
  const w = g.get('class_weights')!.toArray();
  weights.forEach((v, i) => assert.ok(Math.abs(v - w[i]!) < 1e-6, `class weight ${i}: ${v} vs ${w[i]}`));

  const itc = itcLoss(text, image, scale);
  const itm = itmLoss(itmLogits, g.get('itm_labels')!);
  const ce = classificationLoss(cls, labels, { classWeights: weights });
  const total = combineLosses({ ce, itc: itc.loss, itm }, { itc: 0.1, itm: 0.1, mode: 'convex' });
  const report: [string, number][] = [
    ['logits_per_text', maxDiff(itc.logitsPerText, g.get('logits_per_text')!)],
    ['itc_loss', maxDiff(itc.loss, g.get('itc_loss')!)],
    ['itm_loss', maxDiff(itm, g.get('itm_loss')!)],
    ['ce_weighted', maxDiff(ce, g.get('ce_weighted')!)],
    ['total', maxDiff(total, g.get('total')!)],
  ];
  total.backward();
  for (const [name, t] of [
    ['cls_logits', cls],
    ['image_embeds', image],
    ['itm_logits', itmLogits],
    ['logit_scale', scale],
    ['text_embeds', text],
  ] as const)
    report.push([`grad.${name}`, maxDiff(t.grad!, g.get(`grad.${name}`)!)]);
  for (const [name, d] of report) {
    console.log(`${name}: max abs difference ${d.toExponential(2)}`);
    assert.ok(d <= 1e-5, `${name}: ${d}`);
  }
});
