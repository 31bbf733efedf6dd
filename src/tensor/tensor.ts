// The Tensor: a handle to a libtorch tensor with PyTorch-like methods. Every op runs in libtorch (autograd
// included); this class only converts arguments. Errors from libtorch arrive as JavaScript errors naming
// the op and the shapes of its arguments.
import { DTYPE_CODE, DTYPES, type DType } from './dtype.js';
import { isDevice, parseDevice, type Device } from './device.js';
import { N, type Handle } from './native.js';
import type { Addon } from './addon.js';
import { track, type Releasable } from './scope.js';

export type { Device } from './device.js';
export type { Reduction } from './addon.js';
export type Scalar = number;

const CODE_DTYPE: DType[] = [];
for (const d of DTYPES) CODE_DTYPE[DTYPE_CODE[d]] = d;

type TypedArrayOf = {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  bfloat16: Uint16Array;
  int64: BigInt64Array;
  int32: Int32Array;
  uint8: Uint8Array;
  bool: Uint8Array;
};
export type AnyTypedArray = TypedArrayOf[DType];

export class Tensor implements Releasable, Disposable {
  #h: Handle;
  #shape: number[] | undefined;
  #disposed = false;

  /** Wraps a native handle (internal: use the creation functions). */
  constructor(h: Handle) {
    this.#h = h;
    track(this);
  }

  /** The native handle, for the ops modules of this layer. */
  get handle(): Handle {
    if (this.#disposed)
      throw new Error('tandem: this tensor was disposed (used after dispose() or outside its tidy scope)');
    return this.#h;
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  /** Frees the native memory now (views share storage: the storage goes when its last tensor goes). */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    N.dispose(this.#h);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Makes this tensor hold src's data (src is consumed), keeping this object's identity: modules replace a
   * parameter's storage this way (device or dtype moves) while every reference to the parameter stays valid,
   * as PyTorch's `param.data = ...`.
   */
  _setData(src: Tensor): this {
    const h = src.handle;
    src.#disposed = true;
    const old = this.#h;
    this.#h = h;
    this.#shape = undefined;
    if (!this.#disposed) N.dispose(old);
    this.#disposed = false;
    return this;
  }

  // ---- metadata ----
  get shape(): number[] {
    return (this.#shape ??= N.shape(this.handle)).slice();
  }
  get ndim(): number {
    return (this.#shape ??= N.shape(this.handle)).length;
  }
  /** Size of one dimension (negative counts from the end). */
  size(dim: number): number {
    const s = (this.#shape ??= N.shape(this.handle));
    const d = dim < 0 ? dim + s.length : dim;
    if (d < 0 || d >= s.length) throw new RangeError(`tandem.size: dim ${dim} out of range for shape [${s}]`);
    return s[d]!;
  }
  get dtype(): DType {
    return CODE_DTYPE[N.dtype(this.handle)]!;
  }
  get device(): Device {
    return parseDevice(N.device(this.handle), 'tandem: the device libtorch reports for a tensor');
  }
  get numel(): number {
    return N.numel(this.handle);
  }
  get strides(): number[] {
    return N.strides(this.handle);
  }
  isContiguous(): boolean {
    return N.is_contiguous(this.handle);
  }
  toString(): string {
    return this.#disposed ? 'Tensor(<disposed>)' : `Tensor(${this.dtype}[${this.shape}] on ${this.device})`;
  }

  // ---- data out ----
  /** A copy of the elements as a typed array of the tensor's dtype (float16/bfloat16 as raw Uint16 bits). */
  data<D extends DType = DType>(): TypedArrayOf[D] {
    return typedView(this.dtype, N.to_buffer(this.handle).slice(0)) as TypedArrayOf[D];
  }
  /**
   * The elements without a copy for a contiguous CPU tensor: the array shares the tensor's memory (it sees
   * later in-place updates, and keeps the memory alive while referenced).
   */
  dataView<D extends DType = DType>(): TypedArrayOf[D] {
    return typedView(this.dtype, N.to_buffer(this.handle)) as TypedArrayOf[D];
  }
  /** The raw little-endian bytes (a view, as dataView). */
  bytes(): Buffer {
    return Buffer.from(N.to_buffer(this.handle));
  }
  /** The elements as plain numbers in row-major order (int64 beyond 2^53 loses precision). */
  toArray(): number[] {
    const d = this.dtype;
    if (d === 'float16' || d === 'bfloat16') return this.to('float32').toArrayAndDispose();
    const a = this.dataView();
    return Array.from(a as ArrayLike<number | bigint>, Number);
  }
  private toArrayAndDispose(): number[] {
    try {
      return this.toArray();
    } finally {
      this.dispose();
    }
  }
  /** The value of a one-element tensor. */
  item(): number {
    return N.item(this.handle);
  }

  // ---- conversion ----
  to(dtypeOrDevice: DType | Device): Tensor {
    if (isDevice(dtypeOrDevice)) return new Tensor(N.to_device(this.handle, dtypeOrDevice));
    if (!DTYPES.includes(dtypeOrDevice))
      throw new TypeError(
        `tandem.Tensor.to: expected a dtype (${DTYPES.join(', ')}) or a device (cpu, cuda, cuda:N), got '${dtypeOrDevice}'`,
      );
    return new Tensor(N.to_dtype(this.handle, DTYPE_CODE[dtypeOrDevice]));
  }
  float(): Tensor {
    return this.to('float32');
  }
  long(): Tensor {
    return this.to('int64');
  }
  contiguous(): Tensor {
    return new Tensor(N.contiguous(this.handle));
  }
  clone(): Tensor {
    return new Tensor(N.clone(this.handle));
  }
  detach(): Tensor {
    return new Tensor(N.detach(this.handle));
  }

  // ---- autograd ----
  get requiresGrad(): boolean {
    return N.requires_grad(this.handle);
  }
  /** Marks the tensor as a leaf whose gradient is accumulated (returns this). */
  requiresGrad_(flag = true): this {
    N.set_requires_grad(this.handle, flag);
    return this;
  }
  get isLeaf(): boolean {
    return N.is_leaf(this.handle);
  }
  retainGrad(): this {
    N.retain_grad(this.handle);
    return this;
  }
  /** Backpropagates from this tensor (a scalar, or with `gradient` of the same shape). */
  backward(gradient?: Tensor, opts: { retainGraph?: boolean } = {}): void {
    N.backward(this.handle, gradient?.handle ?? null, opts.retainGraph ?? false);
  }
  /** The accumulated gradient, or null. A new handle each call: dispose it or read it inside tidy. */
  get grad(): Tensor | null {
    const g = N.grad(this.handle);
    return g ? new Tensor(g) : null;
  }
  set grad(g: Tensor | null) {
    N.set_grad(this.handle, g ? g.handle : null);
  }
  /** Whether a gradient is accumulated (without making a handle for it, as `grad` does). */
  get hasGrad(): boolean {
    return N.has_grad(this.handle);
  }
  /** Drops the gradient (as PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    N.set_grad(this.handle, null);
  }

  // ---- in place (no autograd; for optimisers, initialisers and loading) ----
  copy_(src: Tensor): this {
    N.copy_(this.handle, src.handle);
    return this;
  }
  zero_(): this {
    N.zero_(this.handle);
    return this;
  }
  fill_(v: number): this {
    N.fill_(this.handle, v);
    return this;
  }
  uniform_(low = 0, high = 1): this {
    N.uniform_(this.handle, low, high);
    return this;
  }
  normal_(mean = 0, std = 1): this {
    N.normal_(this.handle, mean, std);
    return this;
  }
  add_(other: Tensor, alpha = 1): this {
    N.add_(this.handle, other.handle, alpha);
    return this;
  }
  mul_(s: number): this {
    N.mul_s_(this.handle, s);
    return this;
  }
  clamp_(min?: number, max?: number): this {
    N.clamp_(this.handle, min ?? null, max ?? null);
    return this;
  }

  // ---- elementwise ----
  add(o: Tensor | Scalar, alpha?: number): Tensor {
    if (typeof o === 'number') return new Tensor(N.add_s(this.handle, o));
    if (alpha !== undefined) return new Tensor(N.add_scaled(this.handle, o.handle, alpha));
    return new Tensor(N.add(this.handle, o.handle));
  }
  sub(o: Tensor | Scalar): Tensor {
    return bin('sub', this, o);
  }
  mul(o: Tensor | Scalar): Tensor {
    return bin('mul', this, o);
  }
  div(o: Tensor | Scalar): Tensor {
    return bin('div', this, o);
  }
  pow(o: Tensor | Scalar): Tensor {
    return bin('pow', this, o);
  }
  remainder(o: Tensor | Scalar): Tensor {
    return bin('remainder', this, o);
  }
  /** s - this */
  rsub(s: Scalar): Tensor {
    return new Tensor(N.rsub_s(this.handle, s));
  }
  /** s / this */
  rdiv(s: Scalar): Tensor {
    return new Tensor(N.rdiv_s(this.handle, s));
  }
  maximum(o: Tensor | Scalar): Tensor {
    return bin('maximum', this, o);
  }
  minimum(o: Tensor | Scalar): Tensor {
    return bin('minimum', this, o);
  }
  eq(o: Tensor | Scalar): Tensor {
    return bin('eq', this, o);
  }
  ne(o: Tensor | Scalar): Tensor {
    return bin('ne', this, o);
  }
  lt(o: Tensor | Scalar): Tensor {
    return bin('lt', this, o);
  }
  le(o: Tensor | Scalar): Tensor {
    return bin('le', this, o);
  }
  gt(o: Tensor | Scalar): Tensor {
    return bin('gt', this, o);
  }
  ge(o: Tensor | Scalar): Tensor {
    return bin('ge', this, o);
  }
  logicalAnd(o: Tensor): Tensor {
    return new Tensor(N.logical_and(this.handle, o.handle));
  }
  logicalOr(o: Tensor): Tensor {
    return new Tensor(N.logical_or(this.handle, o.handle));
  }
  logicalNot(): Tensor {
    return un('logical_not', this);
  }
  neg(): Tensor {
    return un('neg', this);
  }
  abs(): Tensor {
    return un('abs', this);
  }
  exp(): Tensor {
    return un('exp', this);
  }
  log(): Tensor {
    return un('log', this);
  }
  log1p(): Tensor {
    return un('log1p', this);
  }
  sqrt(): Tensor {
    return un('sqrt', this);
  }
  rsqrt(): Tensor {
    return un('rsqrt', this);
  }
  sin(): Tensor {
    return un('sin', this);
  }
  cos(): Tensor {
    return un('cos', this);
  }
  sign(): Tensor {
    return un('sign', this);
  }
  floor(): Tensor {
    return un('floor', this);
  }
  ceil(): Tensor {
    return un('ceil', this);
  }
  round(): Tensor {
    return un('round', this);
  }
  reciprocal(): Tensor {
    return un('reciprocal', this);
  }
  isnan(): Tensor {
    return un('isnan', this);
  }
  isfinite(): Tensor {
    return un('isfinite', this);
  }
  tanh(): Tensor {
    return un('tanh', this);
  }
  sigmoid(): Tensor {
    return un('sigmoid', this);
  }
  relu(): Tensor {
    return un('relu', this);
  }
  erf(): Tensor {
    return un('erf', this);
  }
  clamp(min?: number | null, max?: number | null): Tensor {
    return new Tensor(N.clamp(this.handle, min ?? null, max ?? null));
  }
  /** where(cond, this, other): elements of this where cond is true, else of other. */
  where(cond: Tensor, other: Tensor | Scalar): Tensor {
    if (typeof other === 'number') return new Tensor(N.where_s(cond.handle, this.handle, other));
    return new Tensor(N.where(cond.handle, this.handle, other.handle));
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return new Tensor(N.masked_fill(this.handle, mask.handle, value));
  }
  maskedSelect(mask: Tensor): Tensor {
    return new Tensor(N.masked_select(this.handle, mask.handle));
  }

  // ---- reductions (dims omitted: all) ----
  sum(dims?: number | number[], keepdim = false, dtype?: DType): Tensor {
    return new Tensor(N.sum(this.handle, dimList(dims), keepdim, dtype ? DTYPE_CODE[dtype] : null));
  }
  mean(dims?: number | number[], keepdim = false): Tensor {
    return new Tensor(N.mean(this.handle, dimList(dims), keepdim));
  }
  /** Maximum of all elements. */
  max(): Tensor {
    return new Tensor(N.max_all(this.handle));
  }
  min(): Tensor {
    return new Tensor(N.min_all(this.handle));
  }
  /** Maximum along a dim: { values, indices }. */
  maxDim(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [v, i] = N.max_dim(this.handle, dim, keepdim);
    return { values: new Tensor(v), indices: new Tensor(i) };
  }
  minDim(dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
    const [v, i] = N.min_dim(this.handle, dim, keepdim);
    return { values: new Tensor(v), indices: new Tensor(i) };
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return new Tensor(N.argmax(this.handle, dim ?? null, keepdim));
  }
  argmin(dim?: number, keepdim = false): Tensor {
    return new Tensor(N.argmin(this.handle, dim ?? null, keepdim));
  }
  logsumexp(dims: number | number[], keepdim = false): Tensor {
    return new Tensor(N.logsumexp(this.handle, dimList(dims), keepdim));
  }
  /** Variance; correction 1 (unbiased, PyTorch's default) or 0. */
  var(dims?: number | number[], opts: { correction?: 0 | 1; keepdim?: boolean } = {}): Tensor {
    return new Tensor(N.var(this.handle, dimList(dims), opts.correction ?? 1, opts.keepdim ?? false));
  }
  std(dims?: number | number[], opts: { correction?: 0 | 1; keepdim?: boolean } = {}): Tensor {
    return new Tensor(N.std(this.handle, dimList(dims), opts.correction ?? 1, opts.keepdim ?? false));
  }
  norm(p = 2, dims?: number | number[], keepdim = false): Tensor {
    return new Tensor(N.norm(this.handle, p, dimList(dims), keepdim));
  }
  all(): Tensor {
    return un('all', this);
  }
  any(): Tensor {
    return un('any', this);
  }
  cumsum(dim: number): Tensor {
    return new Tensor(N.cumsum(this.handle, dim));
  }
  topk(k: number, dim = -1, largest = true): { values: Tensor; indices: Tensor } {
    const [v, i] = N.topk(this.handle, k, dim, largest);
    return { values: new Tensor(v), indices: new Tensor(i) };
  }
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    const [v, i] = N.sort(this.handle, dim, descending);
    return { values: new Tensor(v), indices: new Tensor(i) };
  }

  // ---- shape and views ----
  reshape(...shape: number[] | [number[]]): Tensor {
    return new Tensor(N.reshape(this.handle, shapeArg(shape)));
  }
  view(...shape: number[] | [number[]]): Tensor {
    return new Tensor(N.view(this.handle, shapeArg(shape)));
  }
  permute(...dims: number[] | [number[]]): Tensor {
    return new Tensor(N.permute(this.handle, shapeArg(dims)));
  }
  transpose(d0: number, d1: number): Tensor {
    return new Tensor(N.transpose(this.handle, d0, d1));
  }
  /** Transpose of a 2-D tensor. */
  get T(): Tensor {
    return this.transpose(0, 1);
  }
  expand(...shape: number[] | [number[]]): Tensor {
    return new Tensor(N.expand(this.handle, shapeArg(shape)));
  }
  expandAs(o: Tensor): Tensor {
    return this.expand(o.shape);
  }
  repeat(...reps: number[] | [number[]]): Tensor {
    return new Tensor(N.repeat(this.handle, shapeArg(reps)));
  }
  squeeze(dim?: number): Tensor {
    return new Tensor(N.squeeze(this.handle, dim ?? null));
  }
  unsqueeze(dim: number): Tensor {
    return new Tensor(N.unsqueeze(this.handle, dim));
  }
  flatten(start = 0, end = -1): Tensor {
    return new Tensor(N.flatten(this.handle, start, end));
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return new Tensor(N.narrow(this.handle, dim, start, length));
  }
  /** Python's x[..., start:end:step] on one dim (end may be negative or omitted). */
  slice(dim: number, start = 0, end?: number, step = 1): Tensor {
    return new Tensor(N.slice(this.handle, dim, start, end ?? Number.MAX_SAFE_INTEGER, step));
  }
  /** x.select(dim, i): removes the dim (Python's x[:, i]). */
  select(dim: number, index: number): Tensor {
    return new Tensor(N.select(this.handle, dim, index));
  }
  flip(dims: number[]): Tensor {
    return new Tensor(N.flip(this.handle, dims));
  }
  tril(diagonal = 0): Tensor {
    return new Tensor(N.tril(this.handle, diagonal));
  }
  triu(diagonal = 0): Tensor {
    return new Tensor(N.triu(this.handle, diagonal));
  }
  split(sizeOrSizes: number | number[], dim = 0): Tensor[] {
    return N.split(this.handle, sizeOrSizes, dim).map((h) => new Tensor(h));
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return N.chunk(this.handle, chunks, dim).map((h) => new Tensor(h));
  }
  unbind(dim = 0): Tensor[] {
    return N.unbind(this.handle, dim).map((h) => new Tensor(h));
  }

  // ---- indexing ----
  indexSelect(dim: number, index: Tensor): Tensor {
    return new Tensor(N.index_select(this.handle, dim, index.handle));
  }
  gather(dim: number, index: Tensor): Tensor {
    return new Tensor(N.gather(this.handle, dim, index.handle));
  }
  scatter(dim: number, index: Tensor, src: Tensor): Tensor {
    return new Tensor(N.scatter(this.handle, dim, index.handle, src.handle));
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return new Tensor(N.scatter_add(this.handle, dim, index.handle, src.handle));
  }
  /** Advanced indexing: x.index([i0, null, i2]) is Python's x[i0, :, i2]. */
  index(indices: (Tensor | null)[]): Tensor {
    return new Tensor(
      N.index(
        this.handle,
        indices.map((t) => (t ? t.handle : null)),
      ),
    );
  }
  /** Out-of-place x[indices] = values (accumulate adds instead). */
  indexPut(indices: (Tensor | null)[], values: Tensor, accumulate = false): Tensor {
    return new Tensor(
      N.index_put(
        this.handle,
        indices.map((t) => (t ? t.handle : null)),
        values.handle,
        accumulate,
      ),
    );
  }
  nonzero(): Tensor {
    return un('nonzero', this);
  }

  // ---- linear algebra ----
  matmul(o: Tensor): Tensor {
    return new Tensor(N.matmul(this.handle, o.handle));
  }
  mm(o: Tensor): Tensor {
    return new Tensor(N.mm(this.handle, o.handle));
  }
  bmm(o: Tensor): Tensor {
    return new Tensor(N.bmm(this.handle, o.handle));
  }

  // ---- nn functions as methods ----
  softmax(dim: number): Tensor {
    return new Tensor(N.softmax(this.handle, dim));
  }
  logSoftmax(dim: number): Tensor {
    return new Tensor(N.log_softmax(this.handle, dim));
  }
}

// The addon functions of one tensor, and the binary ops that have a `_s` twin taking a number.
type UnaryOp = { [K in keyof Addon]: Addon[K] extends (x: Handle) => Handle ? K : never }[keyof Addon];
type BinaryOp =
  'sub' | 'mul' | 'div' | 'pow' | 'remainder' | 'maximum' | 'minimum' | 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';

function un(op: UnaryOp, a: Tensor): Tensor {
  return new Tensor(N[op](a.handle));
}

function bin(op: BinaryOp, a: Tensor, b: Tensor | Scalar): Tensor {
  if (typeof b === 'number') return new Tensor(N[`${op}_s`](a.handle, b));
  return new Tensor(N[op](a.handle, b.handle));
}

function dimList(d: number | number[] | undefined): number[] {
  if (d === undefined) return [];
  return typeof d === 'number' ? [d] : d;
}

function shapeArg(s: number[] | [number[]]): number[] {
  return Array.isArray(s[0]) ? (s[0] as number[]) : (s as number[]);
}

function typedView(d: DType, ab: ArrayBuffer): AnyTypedArray {
  switch (d) {
    case 'float32':
      return new Float32Array(ab);
    case 'float64':
      return new Float64Array(ab);
    case 'float16':
    case 'bfloat16':
      return new Uint16Array(ab);
    case 'int64':
      return new BigInt64Array(ab);
    case 'int32':
      return new Int32Array(ab);
    case 'uint8':
    case 'bool':
      return new Uint8Array(ab);
  }
}
