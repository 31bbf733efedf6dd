// SGD with momentum, dampening, Nesterov and (coupled) weight decay, as torch.optim.SGD.
import { Optimizer, type GroupInput } from './optimizer.js';
import type { Tensor } from './engine.js';
import { sgdStep } from './kernels.js';

export interface SGDOptions {
  lr?: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  constructor(
    groups: GroupInput[] | Tensor[],
    readonly opts: SGDOptions = {},
  ) {
    super(groups, { lr: opts.lr ?? 1e-3, weightDecay: opts.weightDecay ?? 0 }, 'SGD');
    if (opts.nesterov && (!opts.momentum || opts.dampening))
      throw new RangeError('SGD: Nesterov momentum needs momentum > 0 and dampening 0');
  }

  step(): void {
    const mom = this.opts.momentum ?? 0;
    this.groups.forEach((g, gi) => {
      const idx = g.params.map((_, pi) => pi).filter((pi) => g.params[pi]!.hasGrad);
      for (const pi of idx) {
        const first = this.steps[gi]![pi]! === 0;
        this.steps[gi]![pi]!++;
        const buf = mom ? this.stateTensor(gi, pi, 'momentum_buffer') : g.params[pi]!;
        sgdStep({
          params: [g.params[pi]!],
          momentumBuffers: [buf],
          lr: g.lr,
          momentum: mom,
          dampening: this.opts.dampening ?? 0,
          weightDecay: g.weightDecay,
          nesterov: this.opts.nesterov ?? false,
          first,
        });
      }
    });
  }
}
