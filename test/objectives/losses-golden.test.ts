// ITC, ITM, class-weighted CE, the weighted total and every gradient reproduce ../shared/golden/losses,
// computed with the objectives (engine ops). The reference's scalars are stored as [1]: ours are compared
// as [1] explicitly (a reference is never reshaped to whatever was computed, which would hide a shape bug).
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
import { type Tensor } from '../../src/tensor/index.js';
import { GOLDEN } from '../helpers/cli.js';
import { expectClose } from '../helpers/parity.js';
import { onTestDevice, TEST_DEVICE } from '../helpers/device.js';

// On TANDEM_TEST_DEVICE (default cpu).
const g = new Map(
  [...loadSafetensorsFile(join(GOLDEN, 'losses.safetensors')).tensors].map(([k, t]) => [k, onTestDevice(t)]),
);
/** A scalar loss as the reference stores it ([1]); anything but a scalar is left as it is (and fails). */
const asStored = (t: Tensor): Tensor => (t.shape.length === 0 ? t.view(1) : t);
// Observed: at most 2.4e-7 of max(1, max|ref|) on the losses, logits and gradients.
const REL = 2e-6;

test(`losses and gradients match the reference (2e-6 of the scale, on ${TEST_DEVICE})`, () => {
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
  assert.deepEqual(itc.loss.shape, [], 'itc loss is a scalar');
  const compared: [string, Tensor][] = [
    ['logits_per_text', itc.logitsPerText],
    ['itc_loss', asStored(itc.loss)],
    ['itm_loss', asStored(itm)],
    ['ce_weighted', asStored(ce)],
    ['total', asStored(total)],
  ];
  for (const [name, t] of compared) expectClose(t, g.get(name)!, { rel: REL, name });
  // The image side of the symmetric loss uses the transposed logits (a loss over one axis twice would differ).
  expectClose(itc.logitsPerImage, g.get('logits_per_text')!.transpose(0, 1), { rel: REL, name: 'logits_per_image' });
  total.backward();
  for (const [name, t] of [
    ['cls_logits', cls],
    ['image_embeds', image],
    ['itm_logits', itmLogits],
    ['logit_scale', scale],
    ['text_embeds', text],
  ] as const)
    expectClose(name === 'logit_scale' ? t.grad!.view(1) : t.grad!, g.get(`grad.${name}`)!, {
      rel: REL,
      name: `grad.${name}`,
    });
});
