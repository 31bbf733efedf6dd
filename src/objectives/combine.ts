// Weighting of the objectives. The paper's convex combination (1 - a - b)·CE + a·ITC + b·ITM (with one
// auxiliary task, (1 - a)·CE + a·AUX), or free weights CE + a·ITC + b·ITM.
import type { Tensor } from '../tensor/index.js';

export interface LossWeights {
  itc: number;
  itm: number;
  mode: 'convex' | 'free';
}

export const PAPER_WEIGHTS: LossWeights = { itc: 0.1, itm: 0.1, mode: 'convex' };

/** The coefficients of CE, ITC and ITM given which auxiliary losses are present (absent ones take no share). */
export function lossCoefficients(
  present: { itc: boolean; itm: boolean },
  w: LossWeights = PAPER_WEIGHTS,
): { ce: number; itc: number; itm: number } {
  const a = present.itc ? w.itc : 0;
  const b = present.itm ? w.itm : 0;
  if (w.mode === 'convex' && a + b >= 1)
    throw new RangeError(`convex loss weights need itc + itm < 1, got ${a} + ${b}`);
  return { ce: w.mode === 'convex' ? 1 - a - b : 1, itc: a, itm: b };
}

/** Combines the losses present (an absent auxiliary loss takes no share of the weight). */
export function combineLosses(
  losses: { ce: Tensor; itc?: Tensor | null; itm?: Tensor | null },
  w: LossWeights = PAPER_WEIGHTS,
): Tensor {
  const k = lossCoefficients({ itc: !!losses.itc, itm: !!losses.itm }, w);
  let total = losses.ce.mul(k.ce);
  if (losses.itc) total = total.add(losses.itc.mul(k.itc));
  if (losses.itm) total = total.add(losses.itm.mul(k.itm));
  return total;
}
