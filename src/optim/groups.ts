// Parameter groups for weight decay: by default biases and normalisation weights are exempt (the usual choice
// for fine-tuning transformers); `exemptBiasAndNorm: false` decays everything, as PyTorch's AdamW does with
// model.parameters() (the paper's code).
import { LayerNorm, type Module } from '../nn/index.js';
import type { Tensor } from './engine.js';

export function decayGroups(
  model: Module,
  opts: { weightDecay: number; lr?: number; trainableOnly?: boolean; exemptBiasAndNorm?: boolean },
): { params: Tensor[]; names: string[]; weightDecay: number; lr?: number }[] {
  const normParams = new Set<Tensor>();
  for (const [, m] of model.namedModules())
    if (m instanceof LayerNorm || /Norm$/.test(m.constructor.name)) for (const p of m.parameters()) normParams.add(p);
  const decay: [string, Tensor][] = [];
  const noDecay: [string, Tensor][] = [];
  for (const [n, p] of model.namedParameters()) {
    if ((opts.trainableOnly ?? true) && !p.requiresGrad) continue;
    const exempt = (opts.exemptBiasAndNorm ?? true) && (n.endsWith('bias') || normParams.has(p));
    (exempt ? noDecay : decay).push([n, p]);
  }
  const group = (xs: [string, Tensor][], wd: number) => ({
    params: xs.map(([, p]) => p),
    names: xs.map(([n]) => n),
    weightDecay: wd,
    ...(opts.lr !== undefined ? { lr: opts.lr } : {}),
  });
  return (opts.exemptBiasAndNorm ?? true)
    ? [group(decay, opts.weightDecay), group(noDecay, 0)]
    : [group(decay, opts.weightDecay)];
}
