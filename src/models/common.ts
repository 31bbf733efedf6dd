// What every model family shares: typed reading of config.json fields (errors name the file and field),
// the activation functions named by `hidden_act`, head splitting for attention, and loading checkpoints.
import { F, noGrad, type Tensor } from '../tensor/index.js';
import { Conv2d, Embedding, LayerNorm, Linear, Module } from '../nn/index.js';
import { forEachTensor } from '../io/tensors.js';
import type { TensorSource } from '../io/safetensors.js';

export type Config = Record<string, unknown>;

/** Reads typed fields of a config, naming the config (file or section) and the field on a bad value. */
export class ConfigReader {
  constructor(
    readonly config: Config,
    readonly where: string,
  ) {}
  private bad(key: string, expected: string): never {
    throw new Error(`${this.where}: field "${key}" must be ${expected}, got ${JSON.stringify(this.config[key])}`);
  }
  has(key: string): boolean {
    return this.config[key] !== undefined && this.config[key] !== null;
  }
  int(key: string, dflt?: number): number {
    const v = this.config[key];
    if (v === undefined || v === null) {
      if (dflt === undefined) throw new Error(`${this.where}: missing required field "${key}" (an integer)`);
      return dflt;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) this.bad(key, 'an integer');
    return v;
  }
  num(key: string, dflt?: number): number {
    const v = this.config[key];
    if (v === undefined || v === null) {
      if (dflt === undefined) throw new Error(`${this.where}: missing required field "${key}" (a number)`);
      return dflt;
    }
    if (typeof v !== 'number') this.bad(key, 'a number');
    return v;
  }
  str<S extends string = string>(key: string, dflt?: S): S {
    const v = this.config[key];
    if (v === undefined || v === null) {
      if (dflt === undefined) throw new Error(`${this.where}: missing required field "${key}" (a string)`);
      return dflt;
    }
    if (typeof v !== 'string') this.bad(key, 'a string');
    return v as S;
  }
  bool(key: string, dflt?: boolean): boolean {
    const v = this.config[key];
    if (v === undefined || v === null) {
      if (dflt === undefined) throw new Error(`${this.where}: missing required field "${key}" (true or false)`);
      return dflt;
    }
    if (typeof v !== 'boolean') this.bad(key, 'true or false');
    return v;
  }
  /** One of the allowed strings; an unsupported value is named with what is supported. */
  oneOf<S extends string>(key: string, allowed: readonly S[], dflt?: S): S {
    const v = this.str(key, dflt);
    if (!(allowed as readonly string[]).includes(v))
      throw new Error(`${this.where}: "${key}": "${v}" is not supported (supported: ${allowed.join(', ')})`);
    return v as S;
  }
  /** A nested config object (for example CLIP's text_config), as a reader of its own. */
  section(key: string, dflt: Config = {}): ConfigReader {
    const v = this.config[key] ?? dflt;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.bad(key, 'an object');
    return new ConfigReader(v as Config, `${this.where} › ${key}`);
  }
}

export const HIDDEN_ACTS = [
  'gelu',
  'gelu_new',
  'gelu_pytorch_tanh',
  'gelu_fast',
  'quick_gelu',
  'relu',
  'tanh',
  'silu',
  'swish',
] as const;
export type HiddenAct = (typeof HIDDEN_ACTS)[number];

/** The engine activation for a Hugging Face `hidden_act` name. */
export function engineActivation(act: HiddenAct): F.Activation {
  switch (act) {
    case 'gelu':
      return 'gelu';
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
    case 'gelu_fast':
      return 'gelu_tanh';
    case 'quick_gelu':
      return 'quick_gelu';
    case 'relu':
      return 'relu';
    case 'tanh':
      return 'tanh';
    case 'silu':
    case 'swish':
      return 'silu';
  }
}

/** Applies a `hidden_act` activation. */
export function applyActivation(x: Tensor, act: HiddenAct): Tensor {
  return F.activation(x, engineActivation(act));
}

/** [B, L, H*D] -> [B, H, L, D] */
export function splitHeads(x: Tensor, heads: number): Tensor {
  const [b, l, hd] = x.shape as [number, number, number];
  return x.view(b, l, heads, hd / heads).transpose(1, 2);
}
/** [B, H, L, D] -> [B, L, H*D] */
export function mergeHeads(x: Tensor): Tensor {
  const [b, h, l, d] = x.shape as [number, number, number, number];
  return x.transpose(1, 2).reshape(b, l, h * d);
}

/**
 * An additive attention mask [B, 1, 1, L] from a 0/1 attention_mask [B, L]: 0 where attended, the dtype's
 * minimum where masked (as transformers' get_extended_attention_mask).
 */
export function extendedAttentionMask(mask: Tensor, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  const [b, l] = mask.shape as [number, number];
  const min = dtype === 'float32' ? -3.4028234663852886e38 : -Number.MAX_VALUE;
  const m = mask.to(dtype).view(b, 1, 1, l);
  const inv = m.rsub(1);
  const out = inv.mul(min);
  m.dispose();
  inv.dispose();
  return out;
}

/**
 * Copies a checkpoint into a module, one tensor at a time. `rename` maps a checkpoint name to the module's
 * name (or null to skip it, for heads the module does not have). Strict: every module tensor must be found
 * and every checkpoint tensor used (or skipped by rename); errors list all the names.
 */
export function loadCheckpointInto(
  module: Module,
  source: TensorSource,
  opts: { rename?: (name: string) => string | null; strict?: boolean; optional?: (moduleName: string) => boolean } = {},
): { missing: string[]; unexpected: string[]; skipped: string[] } {
  const own = module.stateDict();
  const seen = new Set<string>();
  const unexpected: string[] = [];
  const skipped: string[] = [];
  const mismatched: string[] = [];
  const plan: [string, string][] = [];
  for (const n of source.names()) {
    const target = opts.rename ? opts.rename(n) : n;
    if (target === null) {
      skipped.push(n);
      continue;
    }
    const t = own.get(target);
    if (!t) {
      unexpected.push(n);
      continue;
    }
    const shape = source.info(n).shape;
    if (shape.join() !== t.shape.join()) mismatched.push(`${n} (checkpoint [${shape}], model [${t.shape}])`);
    seen.add(target);
    plan.push([n, target]);
  }
  const missing = [...own.keys()].filter((k) => !seen.has(k) && !(opts.optional?.(k) ?? false));
  const strict = opts.strict ?? true;
  if (mismatched.length || (strict && (missing.length || unexpected.length))) {
    const parts: string[] = [];
    const list = (xs: string[]) =>
      xs.length > 20 ? `${xs.slice(0, 20).join(', ')}, ... (${xs.length - 20} more)` : xs.join(', ');
    if (missing.length) parts.push(`missing from the checkpoint: ${list(missing)}`);
    if (unexpected.length) parts.push(`not used by ${module.constructor.name}: ${list(unexpected)}`);
    if (mismatched.length) parts.push(`mis-shaped: ${list(mismatched)}`);
    throw new Error(`${source.path}: ${parts.join('; ')}`);
  }
  const targets = new Map(plan);
  forEachTensor(
    source,
    (n, t) => {
      own.get(targets.get(n)!)!.copy_(t);
    },
    plan.map(([n]) => n),
  );
  return { missing, unexpected, skipped };
}

/**
 * Hugging Face's `_init_weights` for BERT- and ViT-style models: N(0, initializer_range) for Linear, Conv2d and
 * Embedding weights, zero biases and padding rows, LayerNorm weight 1 and bias 0.
 */
export function initHfWeights(model: Module, initializerRange: number): void {
  noGrad(() => {
    for (const [, m] of model.namedModules()) {
      if (m instanceof Linear || m instanceof Conv2d) {
        m.weight.normal_(0, initializerRange);
        m.bias?.zero_();
      } else if (m instanceof Embedding) {
        m.weight.normal_(0, initializerRange);
        if (m.paddingIdx !== null) m.weight.select(0, m.paddingIdx).zero_();
      } else if (m instanceof LayerNorm) {
        m.weight?.fill_(1);
        m.bias?.zero_();
      }
    }
  });
}

/** Runs fn in eval mode without gradients, then restores every module's own training flag (a frozen part may be in eval mode while the rest trains). */
export function inEvalMode<T>(model: Module, fn: () => T): T {
  const modes = model.namedModules().map(([, m]) => [m, m.training] as const);
  model.eval();
  try {
    return noGrad(fn);
  } finally {
    for (const [m, training] of modes) m.training = training;
  }
}

/** tanh(dense(first token)): the pooler of BERT, ViLT and LXMERT (parameters `dense.weight`, `dense.bias`). */
export class FirstTokenPooler extends Module {
  readonly dense: Linear;
  constructor(hiddenSize: number) {
    super();
    this.dense = this.child('dense', new Linear(hiddenSize, hiddenSize));
  }
  forward(sequence: Tensor): Tensor {
    return F.tanh(this.dense.forward(sequence.select(1, 0)));
  }
}
