/**
 * Fusion of a text vector t [B, Dt] and an image vector v [B, Dv] into one pair vector:
 * - `concat`: [t; v] (width Dt + Dv); the heads' dropout follows.
 * - `attention`: attention over the two modality vectors (a documented choice: the paper does not spell it
 *   out). Each modality is projected to width d (h_m = W_m m + b_m), scored by a shared vector w
 *   (s_m = wᵀ tanh(h_m)), and the pair is the softmax-weighted sum α_t h_t + α_v h_v.
 * - `gmu`: the gated multimodal unit of Arevalo et al. (2017): h_t = tanh(W_t t), h_v = tanh(W_v v),
 *   z = σ(W_z [t; v]), h = z·h_t + (1 − z)·h_v (width d, no biases, as the paper's equations).
 * d is `fusionDim` (default: the text width).
 */
import { cat, F, type Tensor } from '../tensor/index.js';
import { Linear, Module } from '../nn/index.js';

export const FUSIONS = ['concat', 'attention', 'gmu'] as const;
export type FusionKind = (typeof FUSIONS)[number];

export abstract class Fusion extends Module {
  abstract readonly kind: FusionKind;
  abstract readonly outDim: number;
  abstract forward(t: Tensor, v: Tensor): Tensor;
}

export class ConcatFusion extends Fusion {
  readonly kind = 'concat';
  readonly outDim: number;
  constructor(textDim: number, imageDim: number) {
    super();
    this.outDim = textDim + imageDim;
  }
  forward(t: Tensor, v: Tensor): Tensor {
    return cat([t, v], 1);
  }
}

export class AttentionFusion extends Fusion {
  readonly kind = 'attention';
  readonly text_proj: Linear;
  readonly image_proj: Linear;
  readonly score: Linear;
  constructor(
    textDim: number,
    imageDim: number,
    readonly outDim: number,
  ) {
    super();
    this.text_proj = this.child('text_proj', new Linear(textDim, outDim));
    this.image_proj = this.child('image_proj', new Linear(imageDim, outDim));
    this.score = this.child('score', new Linear(outDim, 1, { bias: false }));
  }
  forward(t: Tensor, v: Tensor): Tensor {
    const ht = this.text_proj.forward(t);
    const hv = this.image_proj.forward(v);
    const scores = cat([this.score.forward(F.tanh(ht)), this.score.forward(F.tanh(hv))], 1);
    const a = F.softmax(scores, 1);
    return ht.mul(a.narrow(1, 0, 1)).add(hv.mul(a.narrow(1, 1, 1)));
  }
}

export class GmuFusion extends Fusion {
  readonly kind = 'gmu';
  readonly text_hidden: Linear;
  readonly image_hidden: Linear;
  readonly gate: Linear;
  constructor(
    textDim: number,
    imageDim: number,
    readonly outDim: number,
  ) {
    super();
    this.text_hidden = this.child('text_hidden', new Linear(textDim, outDim, { bias: false }));
    this.image_hidden = this.child('image_hidden', new Linear(imageDim, outDim, { bias: false }));
    this.gate = this.child('gate', new Linear(textDim + imageDim, outDim, { bias: false }));
  }
  forward(t: Tensor, v: Tensor): Tensor {
    const ht = F.tanh(this.text_hidden.forward(t));
    const hv = F.tanh(this.image_hidden.forward(v));
    const z = F.sigmoid(this.gate.forward(cat([t, v], 1)));
    // z·h_t + (1 − z)·h_v = h_v + z·(h_t − h_v)
    return hv.add(z.mul(ht.sub(hv)));
  }
}

export function buildFusion(kind: FusionKind, textDim: number, imageDim: number, fusionDim?: number): Fusion {
  const d = fusionDim ?? textDim;
  switch (kind) {
    case 'concat':
      return new ConcatFusion(textDim, imageDim);
    case 'attention':
      return new AttentionFusion(textDim, imageDim, d);
    case 'gmu':
      return new GmuFusion(textDim, imageDim, d);
    default:
      throw new Error(`fusion: "${String(kind)}" is not supported (supported: ${FUSIONS.join(', ')})`);
  }
}
