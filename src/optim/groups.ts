// Parameter groups that exempt biases and normalisation weights from weight decay (the usual choice for
// fine-tuning transformers; PyTorch's AdamW itself decays everything it is given).
import { LayerNorm, type Module } from '../nn/index.js';
import type { Tensor } from './engine.js';

export function decayGroups(
  model: Module,
  opts: { weightDecay: number; lr?: number; trainableOnly?: boolean },
): { params: Tensor[]; names: string[]; weightDecay: number; lr?: number }[] {
  const normParams = new Set<Tensor>();
  for (const [, m] of model.namedModules())
    if (m instanceof LayerNorm || /Norm$/.test(m.constructor.name)) for (const p of m.parameters()) normParams.add(p);
  const decay: [string, Tensor][] = [];
  const noDecay: [string, Tensor][] = [];
  for (const [n, p] of model.namedParameters()) {
    if ((opts.trainableOnly ?? true) && !p.requiresGrad) continue;
    (n.endsWith('bias') || normParams.has(p) ? noDecay : decay).push([n, p]);
  }
  const group = (xs: [string, Tensor][], wd: number) => ({
    params: xs.map(([, p]) => p),
    names: xs.map(([n]) => n),
    weightDecay: wd,
    ...(opts.lr !== undefined ? { lr: opts.lr } : {}),
  });
  return [group(decay, opts.weightDecay), group(noDecay, 0)];
}
