// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_.
import { N, type Tensor } from './engine.js';

/** Scales all gradients so that their global p-norm is at most maxNorm; returns the norm before clipping. */
export function clipGradNorm(params: Tensor[], maxNorm: number, normType = 2): number {
  return N.clip_grad_norm(
    params.map((p) => p.handle),
    maxNorm,
    normType,
  );
}
