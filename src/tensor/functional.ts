// Neural-network functions (PyTorch's torch.nn.functional names, camelCase), losses, and the fused
// attention and MLP blocks.
import type { Activation, Reduction } from './addon.js';
import { N } from './native.js';
import { Tensor } from './tensor.js';

export type { Activation } from './addon.js';

export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return new Tensor(N.linear(x.handle, weight.handle, bias?.handle ?? null));
}
export function layerNorm(
  x: Tensor,
  normalizedShape: number[],
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  // Under autocast a bf16/fp16 activation can meet fp32 weights, which libtorch 1.13's CPU kernel refuses:
  // normalise in the weights' precision (fp32), as autocast's fp32 policy does for layer_norm on CUDA.
  const input = weight && x.dtype !== weight.dtype ? x.to(weight.dtype) : x;
  const out = new Tensor(
    N.layer_norm(input.handle, normalizedShape, weight?.handle ?? null, bias?.handle ?? null, eps),
  );
  if (input !== x) input.dispose();
  return out;
}
/** GELU: exact (erf) form, or the tanh approximation with approximate = 'tanh' (gelu_new, gelu_pytorch_tanh). */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  return new Tensor(N.gelu(x.handle, approximate === 'tanh'));
}
/** x * sigmoid(1.702 x), as CLIP. */
export function quickGelu(x: Tensor): Tensor {
  return new Tensor(N.activation(x.handle, 'quick_gelu'));
}
export function relu(x: Tensor): Tensor {
  return new Tensor(N.relu(x.handle));
}
export function tanh(x: Tensor): Tensor {
  return new Tensor(N.tanh(x.handle));
}
export function sigmoid(x: Tensor): Tensor {
  return new Tensor(N.sigmoid(x.handle));
}
export function erf(x: Tensor): Tensor {
  return new Tensor(N.erf(x.handle));
}
export function silu(x: Tensor): Tensor {
  return new Tensor(N.silu(x.handle));
}
export function logSigmoid(x: Tensor): Tensor {
  return new Tensor(N.logsigmoid(x.handle));
}
export function activation(x: Tensor, name: Activation): Tensor {
  return new Tensor(N.activation(x.handle, name));
}
export function softmax(x: Tensor, dim: number): Tensor {
  return new Tensor(N.softmax(x.handle, dim));
}
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return new Tensor(N.log_softmax(x.handle, dim));
}
/** Inverted dropout: zeroes with probability p and scales by 1/(1-p) when training. */
export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  if (p < 0 || p > 1) throw new RangeError(`tandem.dropout: p must be in [0, 1], got ${p}`);
  // A view, not a copy: a fresh handle keeps ownership uniform (callers may dispose input and output).
  if (!training || p === 0) return x.expand(x.shape);
  return new Tensor(N.dropout(x.handle, p, training));
}
export function embedding(weight: Tensor, ids: Tensor, paddingIdx?: number | null): Tensor {
  return new Tensor(N.embedding(weight.handle, ids.handle, paddingIdx ?? null));
}
export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  opts: {
    stride?: number | [number, number];
    padding?: number | [number, number];
    dilation?: number | [number, number];
    groups?: number;
  } = {},
): Tensor {
  const pair = (v: number | [number, number] | undefined, d: number): number[] =>
    v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : v;
  return new Tensor(
    N.conv2d(
      x.handle,
      weight.handle,
      bias?.handle ?? null,
      pair(opts.stride, 1),
      pair(opts.padding, 0),
      pair(opts.dilation, 1),
      opts.groups ?? 1,
    ),
  );
}
export function avgPool2d(x: Tensor, kernel: [number, number], stride?: [number, number]): Tensor {
  return new Tensor(N.avg_pool2d(x.handle, kernel, stride ?? kernel));
}
export function adaptiveAvgPool2d(x: Tensor, size: [number, number]): Tensor {
  return new Tensor(N.adaptive_avg_pool2d(x.handle, size));
}
/** torch.nn.functional.interpolate for 4-D input: give size or scaleFactor. */
export function interpolate(
  x: Tensor,
  opts: {
    size?: [number, number];
    scaleFactor?: [number, number];
    mode?: 'nearest' | 'bilinear' | 'bicubic';
    alignCorners?: boolean;
    antialias?: boolean;
  },
): Tensor {
  if (!opts.size === !opts.scaleFactor)
    throw new TypeError('tandem.interpolate: give exactly one of size and scaleFactor');
  return new Tensor(
    N.interpolate(
      x.handle,
      opts.size ?? null,
      opts.scaleFactor ?? null,
      opts.mode ?? 'nearest',
      opts.alignCorners ?? false,
      opts.antialias ?? false,
    ),
  );
}
/** x / max(||x||_p, eps) along dim. */
export function normalize(x: Tensor, opts: { p?: number; dim?: number; eps?: number } = {}): Tensor {
  return new Tensor(N.normalize(x.handle, opts.p ?? 2, opts.dim ?? 1, opts.eps ?? 1e-12));
}
export function oneHot(ids: Tensor, numClasses: number): Tensor {
  return new Tensor(N.one_hot(ids.handle, numClasses));
}

export interface CrossEntropyOptions {
  weight?: Tensor | null;
  ignoreIndex?: number;
  labelSmoothing?: number;
  reduction?: Reduction;
}
/** Cross-entropy of logits [N, C] (or [N, C, ...]) against class indices or class probabilities. */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  return new Tensor(
    N.cross_entropy(
      logits.handle,
      target.handle,
      opts.weight?.handle ?? null,
      opts.ignoreIndex ?? -100,
      opts.labelSmoothing ?? 0,
      opts.reduction ?? 'mean',
    ),
  );
}
export function nllLoss(
  logProbs: Tensor,
  target: Tensor,
  opts: Omit<CrossEntropyOptions, 'labelSmoothing'> = {},
): Tensor {
  return new Tensor(
    N.nll_loss(
      logProbs.handle,
      target.handle,
      opts.weight?.handle ?? null,
      opts.ignoreIndex ?? -100,
      opts.reduction ?? 'mean',
    ),
  );
}
export function binaryCrossEntropyWithLogits(
  logits: Tensor,
  target: Tensor,
  opts: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {},
): Tensor {
  return new Tensor(
    N.bce_with_logits(
      logits.handle,
      target.handle,
      opts.weight?.handle ?? null,
      opts.posWeight?.handle ?? null,
      opts.reduction ?? 'mean',
    ),
  );
}
export function mseLoss(x: Tensor, y: Tensor, reduction: Reduction = 'mean'): Tensor {
  return new Tensor(N.mse_loss(x.handle, y.handle, reduction));
}

/**
 * Scaled dot-product attention over q, k, v [..., L, D]: softmax(q kᵀ · scale + mask) v, with dropout on
 * the probabilities when training. mask: additive float (0 / -inf or a large negative) broadcastable to
 * [..., Lq, Lk], or bool with true = attend. Uses libtorch's scaled_dot_product_attention on 2.x.
 */
export function attention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: { mask?: Tensor | null; dropout?: number; training?: boolean; scale?: number; causal?: boolean } = {},
): Tensor {
  return new Tensor(
    N.attention(
      q.handle,
      k.handle,
      v.handle,
      opts.mask?.handle ?? null,
      opts.dropout ?? 0,
      opts.training ?? false,
      opts.scale ?? 0,
      opts.causal ?? false,
    ),
  );
}

/** linear(w1, b1) -> activation -> linear(w2, b2) in one native call. */
export function mlp(x: Tensor, w1: Tensor, b1: Tensor | null, w2: Tensor, b2: Tensor | null, act: Activation): Tensor {
  return new Tensor(N.mlp(x.handle, w1.handle, b1?.handle ?? null, w2.handle, b2?.handle ?? null, act));
}
