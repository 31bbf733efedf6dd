// Creating tensors: from JavaScript data (one copy into libtorch memory), constants, ranges, random numbers.
import { DTYPE_CODE, DTYPE_SIZE, type DType } from './dtype.js';
import { N } from './native.js';
import { Tensor, type AnyTypedArray, type Device } from './tensor.js';

export interface CreateOptions {
  dtype?: DType;
  device?: Device;
}

type Nested = number | boolean | bigint | Nested[];

function inferShape(data: Nested): number[] {
  const shape: number[] = [];
  let cur: Nested = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0] as Nested;
    if (cur === undefined) break;
  }
  return shape;
}

function flatten(data: Nested, shape: number[], depth: number, out: (number | bigint | boolean)[]): void {
  if (depth === shape.length) {
    if (Array.isArray(data))
      throw new TypeError('tandem.tensor: ragged nested array (more nesting than the first element)');
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth])
    throw new TypeError(`tandem.tensor: ragged nested array at depth ${depth} (expected length ${shape[depth]})`);
  for (const d of data) flatten(d, shape, depth + 1, out);
}

function defaultDType(a: AnyTypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'uint8';
  throw new TypeError(`tandem.tensor: pass dtype for a ${a.constructor.name}`);
}

function encode(values: (number | bigint | boolean)[], dtype: Exclude<DType, 'float16' | 'bfloat16'>): AnyTypedArray {
  switch (dtype) {
    case 'float32':
      return Float32Array.from(values, Number);
    case 'float64':
      return Float64Array.from(values, Number);
    case 'int64':
      return BigInt64Array.from(values, (v) => BigInt(typeof v === 'boolean' ? Number(v) : Math.trunc(Number(v))));
    case 'int32':
      return Int32Array.from(values, Number);
    case 'uint8':
    case 'bool':
      return Uint8Array.from(values, (v) => (dtype === 'bool' ? (v ? 1 : 0) : Number(v)));
  }
}

/**
 * A tensor from a (nested) array or a typed array. Nested arrays default to float32 (int64 for bigint
 * elements, bool for booleans); typed arrays keep their type unless dtype says otherwise. `shape` is
 * required for a flat typed array that is not 1-D.
 */
export function tensor(data: Nested | AnyTypedArray, opts: CreateOptions & { shape?: number[] } = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const ta = data as AnyTypedArray;
    const shape = opts.shape ?? [ta.length];
    const dtype = opts.dtype ?? defaultDType(ta);
    const native = defaultDType(ta);
    if (
      dtype === native ||
      (dtype === 'bool' && ta instanceof Uint8Array) ||
      ((dtype === 'float16' || dtype === 'bfloat16') && ta instanceof Uint16Array)
    ) {
      return fromBuffer(ta, dtype, shape, opts.device);
    }
    const t = fromBuffer(ta, native, shape);
    try {
      return t.to(dtype).to(opts.device ?? 'cpu');
    } finally {
      t.dispose();
    }
  }
  const shape = opts.shape ?? inferShape(data as Nested);
  const flat: (number | bigint | boolean)[] = [];
  if (opts.shape) {
    flatten(data as Nested, inferShape(data as Nested), 0, flat);
  } else flatten(data as Nested, shape, 0, flat);
  const first = flat[0];
  const dtype = opts.dtype ?? (typeof first === 'bigint' ? 'int64' : typeof first === 'boolean' ? 'bool' : 'float32');
  if (dtype === 'float16' || dtype === 'bfloat16') {
    const t = fromBuffer(encode(flat, 'float32'), 'float32', shape);
    try {
      return t.to(dtype).to(opts.device ?? 'cpu');
    } finally {
      t.dispose();
    }
  }
  return fromBuffer(encode(flat, dtype), dtype, shape, opts.device);
}

/** A tensor over a copy of raw little-endian bytes (a Buffer, typed array or ArrayBuffer). */
export function fromBuffer(
  data: ArrayBufferView | ArrayBuffer,
  dtype: DType,
  shape: number[],
  device?: Device,
): Tensor {
  const bytes = data instanceof ArrayBuffer ? data.byteLength : data.byteLength;
  const numel = shape.reduce((a, b) => a * b, 1);
  if (numel * DTYPE_SIZE[dtype] !== bytes)
    throw new RangeError(
      `tandem.fromBuffer: ${bytes} bytes cannot hold ${dtype}[${shape}] (${numel * DTYPE_SIZE[dtype]} bytes)`,
    );
  return new Tensor(N.from_buffer(data, DTYPE_CODE[dtype], shape, device ?? null));
}

function code(o: CreateOptions): [number | null, Device | null] {
  return [o.dtype ? DTYPE_CODE[o.dtype] : null, o.device ?? null];
}

export function zeros(shape: number[], opts: CreateOptions = {}): Tensor {
  return new Tensor(N.zeros(shape, ...code(opts)));
}
export function ones(shape: number[], opts: CreateOptions = {}): Tensor {
  return new Tensor(N.ones(shape, ...code(opts)));
}
export function empty(shape: number[], opts: CreateOptions = {}): Tensor {
  return new Tensor(N.empty(shape, ...code(opts)));
}
export function full(shape: number[], value: number, opts: CreateOptions = {}): Tensor {
  return new Tensor(N.full(shape, value, ...code(opts)));
}
export function zerosLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return zeros(t.shape, { dtype: opts.dtype ?? t.dtype, device: opts.device ?? t.device });
}
export function onesLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return ones(t.shape, { dtype: opts.dtype ?? t.dtype, device: opts.device ?? t.device });
}
/** [start, end) by step; int64 unless a dtype is given or an argument is fractional. */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  const integral = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const dtype = opts.dtype ?? (integral ? 'int64' : 'float32');
  return new Tensor(N.arange(start, end, step, DTYPE_CODE[dtype], opts.device ?? null));
}
export function linspace(start: number, end: number, steps: number, opts: CreateOptions = {}): Tensor {
  return new Tensor(N.linspace(start, end, steps, ...code(opts)));
}
export function eye(n: number, opts: CreateOptions = {}): Tensor {
  return new Tensor(N.eye(n, ...code(opts)));
}
/** Uniform on [0, 1) from the global generator (seed it with manualSeed). */
export function rand(shape: number[], opts: CreateOptions = {}): Tensor {
  return new Tensor(N.rand(shape, ...code(opts)));
}
export function randn(shape: number[], opts: CreateOptions = {}): Tensor {
  return new Tensor(N.randn(shape, ...code(opts)));
}
/** Integers in [low, high). */
export function randint(low: number, high: number, shape: number[], opts: CreateOptions = {}): Tensor {
  return new Tensor(N.randint(low, high, shape, opts.dtype ? DTYPE_CODE[opts.dtype] : null, opts.device ?? null));
}
export function randperm(n: number, opts: { device?: Device } = {}): Tensor {
  return new Tensor(N.randperm(n, opts.device ?? null));
}
/** Samples indices from each row of probs (non-negative weights). */
export function multinomial(probs: Tensor, numSamples: number, replacement = false): Tensor {
  return new Tensor(N.multinomial(probs.handle, numSamples, replacement));
}
export function bernoulli(probs: Tensor): Tensor {
  return new Tensor(N.bernoulli(probs.handle));
}

export function cat(ts: Tensor[], dim = 0): Tensor {
  return new Tensor(
    N.cat(
      ts.map((t) => t.handle),
      dim,
    ),
  );
}
export function stack(ts: Tensor[], dim = 0): Tensor {
  return new Tensor(
    N.stack(
      ts.map((t) => t.handle),
      dim,
    ),
  );
}
/** where(cond, a, b): a where cond is true, else b. */
export function where(cond: Tensor, a: Tensor, b: Tensor | number): Tensor {
  return a.where(cond, b);
}
export function einsum(equation: string, ...ts: Tensor[]): Tensor {
  return new Tensor(
    N.einsum(
      equation,
      ts.map((t) => t.handle),
    ),
  );
}
