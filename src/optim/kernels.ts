// The addon's optimiser kernels behind option objects. The native functions take their hyper-parameters
// positionally (nine arguments for AdamW), where two swapped numbers would still type-check.
import { N, type Tensor } from './engine.js';

export interface AdamWStep {
  /** Parameters to update (those without a gradient are skipped), and their first and second moments. */
  params: Tensor[];
  expAvgs: Tensor[];
  expAvgSqs: Tensor[];
  /** The step count of these parameters, 1 on their first update (for the bias corrections). */
  step: number;
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** One step of torch.optim.AdamW (single-tensor path, amsgrad off), in place. */
export function adamwStep(s: AdamWStep): void {
  N.adamw_step(
    s.params.map((t) => t.handle),
    s.expAvgs.map((t) => t.handle),
    s.expAvgSqs.map((t) => t.handle),
    s.step,
    s.lr,
    s.beta1,
    s.beta2,
    s.eps,
    s.weightDecay,
  );
}

export interface SGDStep {
  params: Tensor[];
  /** One buffer per parameter (unused when momentum is 0). */
  momentumBuffers: Tensor[];
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  /** True on a parameter's first step: its momentum buffer starts as the gradient, as in PyTorch. */
  first: boolean;
}

/** One step of torch.optim.SGD, in place. */
export function sgdStep(s: SGDStep): void {
  N.sgd_step(
    s.params.map((t) => t.handle),
    s.momentumBuffers.map((t) => t.handle),
    s.lr,
    s.momentum,
    s.dampening,
    s.weightDecay,
    s.nesterov,
    s.first,
  );
}
