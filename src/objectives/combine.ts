// Weighting of the objectives. The paper's convex combination (1 - a - b)·CE + a·ITC + b·ITM (with one
// auxiliary task, (1 - a)·CE + a·AUX), or free weights CE + a·ITC + b·ITM.
import type { Tensor } from '../tensor/index.js';

export interface LossWeights {
  itc: number;
  itm: number;
  mode: 'convex' | 'free';
}

export const PAPER_WEIGHTS: LossWeights = { itc: 0.1, itm: 0.1, mode: 'convex' };

/** Combines the losses present (an absent auxiliary loss takes no share of the weight). */
export function combineLosses(
  losses: { ce: Tensor; itc?: Tensor | null; itm?: Tensor | null },
  w: LossWeights = PAPER_WEIGHTS,
): Tensor {
  const a = losses.itc ? w.itc : 0;
  const b = losses.itm ? w.itm : 0;
  if (w.mode === 'convex' && a + b >= 1)
    throw new RangeError(`convex loss weights need itc + itm < 1, got ${a} + ${b}`);
  let total = losses.ce.mul(w.mode === 'convex' ? 1 - a - b : 1);
  if (losses.itc) total = total.add(losses.itc.mul(a));
  if (losses.itm) total = total.add(losses.itm.mul(b));
  return total;
}
