// Dynamic loss scaling for fp16 training, as torch.amp.GradScaler: the loss is multiplied by a large scale so
// that small fp16 gradients do not underflow; before the optimiser step the gradients are divided by it and
// checked: a step with an infinite or NaN gradient is skipped and the scale is halved; after `growthInterval`
// good steps in a row the scale doubles. The state is a few numbers, saved with checkpoints for exact resume.
import { noGrad, stack, type Tensor } from './engine.js';

export interface GradScalerOptions {
  /** Starting scale (PyTorch: 2^16). */
  initScale?: number;
  /** Factor after `growthInterval` steps without inf/NaN (PyTorch: 2). */
  growthFactor?: number;
  /** Factor after a step with inf/NaN (PyTorch: 0.5). */
  backoffFactor?: number;
  /** Good steps in a row before the scale grows (PyTorch: 2000). */
  growthInterval?: number;
}

export interface GradScalerState {
  scale: number;
  growthFactor: number;
  backoffFactor: number;
  growthInterval: number;
  growthTracker: number;
  /** Optimiser steps skipped so far because of inf/NaN gradients. */
  skippedSteps: number;
}

export class GradScaler {
  private s: GradScalerState;

  constructor(o: GradScalerOptions = {}) {
    this.s = {
      scale: o.initScale ?? 2 ** 16,
      growthFactor: o.growthFactor ?? 2,
      backoffFactor: o.backoffFactor ?? 0.5,
      growthInterval: o.growthInterval ?? 2000,
      growthTracker: 0,
      skippedSteps: 0,
    };
    if (!(this.s.scale > 0)) throw new RangeError(`GradScaler: initScale must be positive, got ${this.s.scale}`);
    if (!(this.s.growthFactor > 1))
      throw new RangeError(`GradScaler: growthFactor must be above 1, got ${this.s.growthFactor}`);
    if (!(this.s.backoffFactor > 0 && this.s.backoffFactor < 1))
      throw new RangeError(`GradScaler: backoffFactor must be in (0, 1), got ${this.s.backoffFactor}`);
    if (!Number.isInteger(this.s.growthInterval) || this.s.growthInterval < 1)
      throw new RangeError(`GradScaler: growthInterval must be a positive integer, got ${this.s.growthInterval}`);
  }

  get scale(): number {
    return this.s.scale;
  }
  get skippedSteps(): number {
    return this.s.skippedSteps;
  }

  /** The loss times the current scale (call backward on this). */
  scaleLoss(loss: Tensor): Tensor {
    return loss.mul(this.s.scale);
  }

  /**
   * Divides every gradient by the scale in place and says whether any is infinite or NaN (one host sync for
   * all parameters). Call once per optimiser step, after the last backward and before clipping.
   */
  unscale(params: Tensor[]): { foundInf: boolean } {
    const inv = 1 / this.s.scale;
    const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    if (grads.length === 0) return { foundInf: false };
    return noGrad(() => {
      const maxima: Tensor[] = [];
      for (const g of grads) {
        g.mul_(inv);
        // max |g| is inf for an infinite element and NaN for a NaN one (max propagates NaN).
        maxima.push(g.abs().max().to('float32').to('cpu'));
      }
      const all = stack(maxima);
      const worst = all.max();
      const v = worst.item();
      for (const t of [...maxima, all, worst]) t.dispose();
      for (const g of grads) g.dispose();
      return { foundInf: !Number.isFinite(v) };
    });
  }

  /** Updates the scale after a step: back off on inf/NaN, grow after growthInterval good steps in a row. */
  update(foundInf: boolean): void {
    if (foundInf) {
      this.s.scale *= this.s.backoffFactor;
      this.s.growthTracker = 0;
      this.s.skippedSteps++;
      return;
    }
    this.s.growthTracker++;
    if (this.s.growthTracker === this.s.growthInterval) {
      this.s.scale *= this.s.growthFactor;
      this.s.growthTracker = 0;
    }
  }

  stateDict(): GradScalerState {
    return { ...this.s };
  }

  loadStateDict(st: GradScalerState): void {
    for (const k of ['scale', 'growthFactor', 'backoffFactor', 'growthInterval', 'growthTracker'] as const)
      if (typeof st[k] !== 'number' || !Number.isFinite(st[k]))
        throw new TypeError(`GradScaler state: '${k}' must be a finite number, got ${JSON.stringify(st[k])}`);
    this.s = { ...st, skippedSteps: st.skippedSteps ?? 0 };
  }
}
