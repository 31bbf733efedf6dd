// AdamW (Loshchilov & Hutter) with decoupled weight decay, computed exactly as torch.optim.AdamW
// (amsgrad off) in one native call per group.
import { Optimizer, type GroupInput } from './optimizer.js';
import type { Tensor } from './engine.js';
import { adamwStep } from './kernels.js';

export interface AdamWOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class AdamW extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  /** Defaults as PyTorch: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
  constructor(groups: GroupInput[] | Tensor[], opts: AdamWOptions = {}) {
    super(groups, { lr: opts.lr ?? 1e-3, weightDecay: opts.weightDecay ?? 1e-2 }, 'AdamW');
    this.betas = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
  }

  step(): void {
    this.groups.forEach((g, gi) => {
      // Parameters are batched by their step count (those without a gradient are skipped and do not count).
      const byStep = new Map<number, number[]>();
      g.params.forEach((p, pi) => {
        if (!p.hasGrad) return;
        const s = ++this.steps[gi]![pi]!;
        (byStep.get(s) ?? byStep.set(s, []).get(s)!).push(pi);
      });
      for (const [step, idx] of byStep) {
        adamwStep({
          params: idx.map((pi) => g.params[pi]!),
          expAvgs: idx.map((pi) => this.stateTensor(gi, pi, 'exp_avg')),
          expAvgSqs: idx.map((pi) => this.stateTensor(gi, pi, 'exp_avg_sq')),
          step,
          lr: g.lr,
          beta1: this.betas[0],
          beta2: this.betas[1],
          eps: this.eps,
          weightDecay: g.weightDecay,
        });
      }
    });
  }
}
