// Shared optimiser machinery: parameter groups with their own hyper-parameters, per-parameter state
// tensors, and saving/loading that state (as safetensors-ready tensors plus JSON) for resume.
import { keep, N, noGrad, zerosLike, type Tensor } from './engine.js';

export interface ParamGroup {
  params: Tensor[];
  /** Parameter names, for readable errors and for matching state on load. */
  names?: string[];
  lr: number;
  weightDecay: number;
  [hyper: string]: unknown;
}

export type GroupInput = { params: Tensor[]; names?: string[]; lr?: number; weightDecay?: number } | Tensor[];

/** Saved optimiser state: tensors keyed `state.<group>.<index>.<name>`, and JSON-serialisable metadata. */
export interface OptimizerState {
  tensors: Map<string, Tensor>;
  meta: { kind: string; groups: Record<string, unknown>[]; steps: number[][] };
}

export abstract class Optimizer {
  readonly groups: ParamGroup[];
  /** Per group, per parameter: named state tensors (created at a parameter's first step). */
  protected readonly state: Map<string, Tensor>[][];
  /** Per group, per parameter: how many updates it has had. */
  protected readonly steps: number[][];

  constructor(
    groups: GroupInput[] | Tensor[],
    defaults: { lr: number; weightDecay: number },
    readonly kind: string,
  ) {
    const list: GroupInput[] =
      groups.length > 0 && !Array.isArray(groups[0]) && !('params' in (groups[0] as object))
        ? [groups as Tensor[]]
        : (groups as GroupInput[]);
    this.groups = list.map((g) => {
      const params = Array.isArray(g) ? g : g.params;
      const base: { lr?: number; weightDecay?: number; names?: string[] } = Array.isArray(g) ? {} : g;
      return {
        ...defaults,
        ...base,
        params,
        lr: base.lr ?? defaults.lr,
        weightDecay: base.weightDecay ?? defaults.weightDecay,
      } as ParamGroup;
    });
    this.state = this.groups.map((g) => g.params.map(() => new Map()));
    this.steps = this.groups.map((g) => g.params.map(() => 0));
  }

  abstract step(): void;

  /** Drops every parameter's gradient (set to none, as PyTorch's default). */
  zeroGrad(): void {
    for (const g of this.groups) for (const p of g.params) p.zeroGrad();
  }

  protected stateTensor(gi: number, pi: number, name: string): Tensor {
    const s = this.state[gi]![pi]!;
    let t = s.get(name);
    if (!t) {
      t = keep(noGrad(() => zerosLike(this.groups[gi]!.params[pi]!)));
      s.set(name, t);
    }
    return t;
  }

  /** The state for a checkpoint: the tensors are the optimiser's own (write them out before stepping). */
  stateDict(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    this.state.forEach((g, gi) => g.forEach((s, pi) => s.forEach((t, n) => tensors.set(`state.${gi}.${pi}.${n}`, t))));
    const groups = this.groups.map(({ params: _p, names, ...hyper }) => ({ ...hyper, numParams: _p.length, names }));
    return { tensors, meta: { kind: this.kind, groups, steps: this.steps.map((s) => [...s]) } };
  }

  /** Restores a stateDict() of an optimiser over the same parameter groups. */
  loadStateDict(sd: OptimizerState): void {
    if (sd.meta.kind !== this.kind) throw new Error(`optimizer state is for ${sd.meta.kind}, not ${this.kind}`);
    if (sd.meta.groups.length !== this.groups.length)
      throw new Error(
        `optimizer state has ${sd.meta.groups.length} parameter groups, this optimizer has ${this.groups.length}`,
      );
    sd.meta.groups.forEach((g, gi) => {
      const own = this.groups[gi]!;
      if (g.numParams !== own.params.length)
        throw new Error(`optimizer state group ${gi} has ${g.numParams} parameters, expected ${own.params.length}`);
      for (const [k, v] of Object.entries(g)) if (k !== 'numParams' && k !== 'names') own[k] = v;
    });
    for (const [key, t] of sd.tensors) {
      const m = /^state\.(\d+)\.(\d+)\.(\w+)$/.exec(key);
      if (!m) throw new Error(`optimizer state: unexpected tensor name '${key}'`);
      const gi = Number(m[1]),
        pi = Number(m[2]);
      const p = this.groups[gi]?.params[pi];
      if (!p) throw new Error(`optimizer state: '${key}' names no parameter`);
      const own = this.stateTensor(gi, pi, m[3]!);
      if (own.shape.join() !== t.shape.join())
        throw new Error(`optimizer state: '${key}' has shape [${t.shape}], parameter has [${p.shape}]`);
      own.copy_(t);
    }
    sd.meta.steps.forEach((s, gi) => s.forEach((v, pi) => (this.steps[gi]![pi] = v)));
  }

  /** Frees the state tensors. */
  dispose(): void {
    for (const g of this.state) for (const s of g) for (const t of s.values()) t.dispose();
  }
}

export { N };
