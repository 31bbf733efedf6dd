// Module: named parameters, buffers and children with the dotted names of PyTorch state dicts (so Hugging
// Face checkpoints load by name), train/eval, freezing, device moves, and strict state-dict loading.
import { keep, noGrad, type Device, type DType, Tensor } from '../tensor/index.js';

export type StateDict = Map<string, Tensor>;

export class StateDictError extends Error {
  constructor(
    message: string,
    readonly missing: string[],
    readonly unexpected: string[],
    readonly mismatched: { name: string; expected: number[]; got: number[] }[],
  ) {
    super(message);
    this.name = 'StateDictError';
  }
}

export abstract class Module {
  training = true;
  readonly #params = new Map<string, Tensor>();
  readonly #buffers = new Map<string, { t: Tensor; persistent: boolean }>();
  readonly #children = new Map<string, Module>();

  /** Registers a trainable tensor under `name` (it outlives tidy scopes; the module owns it). */
  protected param(name: string, t: Tensor, requiresGrad = true): Tensor {
    keep(t);
    if (requiresGrad && !t.requiresGrad) t.requiresGrad_(true);
    this.#params.set(name, t);
    return t;
  }
  /** Registers a non-trainable tensor (persistent ones are saved in the state dict). */
  protected buffer(name: string, t: Tensor, persistent = true): Tensor {
    keep(t);
    this.#buffers.set(name, { t, persistent });
    return t;
  }
  protected child<M extends Module>(name: string, m: M): M {
    this.#children.set(name, m);
    return m;
  }

  /** Direct children with their names. */
  children(): [string, Module][] {
    return [...this.#children];
  }
  /** This module and all descendants, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, c] of this.#children) out.push(...c.namedModules(prefix ? `${prefix}.${n}` : n));
    return out;
  }
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [mp, m] of this.namedModules(prefix))
      for (const [n, t] of m.#params) out.push([mp ? `${mp}.${n}` : n, t]);
    return out;
  }
  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }
  /** Parameters that will be trained (requiresGrad). */
  trainableParameters(): [string, Tensor][] {
    return this.namedParameters().filter(([, t]) => t.requiresGrad);
  }
  namedBuffers(prefix = '', persistentOnly = false): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [mp, m] of this.namedModules(prefix))
      for (const [n, b] of m.#buffers) if (!persistentOnly || b.persistent) out.push([mp ? `${mp}.${n}` : n, b.t]);
    return out;
  }
  /** Number of parameter elements (trainable only if asked). */
  numParameters(trainableOnly = false): number {
    return this.namedParameters()
      .filter(([, t]) => !trainableOnly || t.requiresGrad)
      .reduce((a, [, t]) => a + t.numel, 0);
  }

  /** Parameters and persistent buffers by name; the tensors are the module's own (not copies). */
  stateDict(): StateDict {
    return new Map([...this.namedParameters(), ...this.namedBuffers('', true)]);
  }

  /**
   * Copies tensors into the parameters and persistent buffers by name (converting dtype and device). Strict
   * (the default): any missing, unexpected or mis-shaped name is an error listing all of them, and nothing
   * is copied. Non-strict: copies what matches and returns the rest.
   */
  loadStateDict(
    sd: Map<string, Tensor> | Record<string, Tensor>,
    opts: { strict?: boolean; source?: string } = {},
  ): { missing: string[]; unexpected: string[] } {
    const src = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !src.has(k));
    const unexpected = [...src.keys()].filter((k) => !own.has(k));
    const mismatched: { name: string; expected: number[]; got: number[] }[] = [];
    for (const [k, t] of own) {
      const s = src.get(k);
      if (s && !sameShape(s.shape, t.shape)) mismatched.push({ name: k, expected: t.shape, got: s.shape });
    }
    const strict = opts.strict ?? true;
    if (mismatched.length || (strict && (missing.length || unexpected.length))) {
      const where = opts.source ? ` from ${opts.source}` : '';
      const parts: string[] = [];
      if (missing.length) parts.push(`missing ${missing.length}: ${list(missing)}`);
      if (unexpected.length) parts.push(`unexpected ${unexpected.length}: ${list(unexpected)}`);
      if (mismatched.length)
        parts.push(
          `mis-shaped ${mismatched.length}: ${list(mismatched.map((m) => `${m.name} (expected [${m.expected}], got [${m.got}])`))}`,
        );
      throw new StateDictError(
        `loading ${this.constructor.name}${where}: ${parts.join('; ')}`,
        missing,
        unexpected,
        mismatched,
      );
    }
    noGrad(() => {
      for (const [k, t] of own) {
        const s = src.get(k);
        if (s) t.copy_(s);
      }
    });
    return { missing, unexpected };
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  /** Stops gradients for all parameters (the paper freezes the image encoder in late fusion). */
  freeze(): this {
    for (const t of this.parameters()) t.requiresGrad_(false);
    return this;
  }
  unfreeze(): this {
    for (const t of this.parameters()) t.requiresGrad_(true);
    return this;
  }

  /** Moves parameters and buffers to a device or floating dtype, in place (references stay valid). */
  to(target: Device | DType): this {
    const isDtype = !target.startsWith('cuda') && target !== 'cpu';
    for (const t of [...this.parameters(), ...this.namedBuffers().map(([, b]) => b)]) {
      if (isDtype && !['float32', 'float64', 'float16', 'bfloat16'].includes(t.dtype)) continue;
      const rg = t.requiresGrad;
      const moved = noGrad(() => t.to(target));
      t._setData(moved);
      if (rg) t.requiresGrad_(true);
    }
    return this;
  }

  /** Drops all parameter gradients. */
  zeroGrad(): void {
    for (const t of this.parameters()) t.zeroGrad();
  }

  /** Frees all parameters and buffers. */
  dispose(): void {
    for (const t of this.parameters()) t.dispose();
    for (const [, b] of this.namedBuffers()) b.dispose();
  }
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function list(xs: string[], max = 20): string {
  return xs.length <= max ? xs.join(', ') : `${xs.slice(0, max).join(', ')}, ... (${xs.length - max} more)`;
}

/** Children indexed 0..n-1, as torch.nn.ModuleList (names 'layer.0', 'layer.1', ...). */
export class ModuleList<M extends Module = Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items;
    items.forEach((m, i) => this.child(String(i), m));
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): M {
    const m = this.items[i];
    if (!m) throw new RangeError(`ModuleList: index ${i} out of range (length ${this.items.length})`);
    return m;
  }
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}
