// The native boundary, declared once: every function the addon (native/*.cc, registered by OP(name)) exports,
// with its arguments and result. Everything above src/tensor/ reaches libtorch through these signatures.
// test/tensor/native-boundary.test.ts checks this declaration against the built addon (the same set of
// names, and each argument's kind against the addon's own argument errors), so the two cannot drift.
// Arguments the C++ side treats as optional (`absent()`: undefined or null) are optional here.
import type { Device } from './device.js';

/** An opaque tensor handle owned by the addon. */
export type Handle = object & { readonly __brand?: 'TensorHandle' };

/** A dtype code shared with native/common.h (DTYPE_CODE in dtype.ts). */
export type DTypeCode = number;

/** The reductions the native losses accept. */
export type Reduction = 'mean' | 'sum' | 'none';

/** The activations the native `activation` and `mlp` accept. */
export type Activation = 'gelu' | 'gelu_tanh' | 'relu' | 'quick_gelu' | 'tanh' | 'silu';

export type InterpolateMode = 'nearest' | 'bilinear' | 'bicubic';

type Unary = (x: Handle) => Handle;
type Binary = (a: Handle, b: Handle) => Handle;
type WithScalar = (a: Handle, s: number) => Handle;
type Reshape = (x: Handle, shape: number[]) => Handle;
type Create = (shape: number[], dtype?: DTypeCode | null, device?: Device | null) => Handle;
type Pair = [Handle, Handle];

export interface Addon {
  // ---- lifetime and metadata (addon.cc) ----
  dispose(t: Handle): void;
  is_disposed(t: Handle): boolean;
  shape(t: Handle): number[];
  strides(t: Handle): number[];
  dtype(t: Handle): DTypeCode;
  /** libtorch's device string ('cpu', 'cuda:0'); Tensor.device parses it into a Device. */
  device(t: Handle): string;
  numel(t: Handle): number;
  is_contiguous(t: Handle): boolean;
  same_storage(a: Handle, b: Handle): boolean;
  nbytes(t: Handle): number;

  // ---- data in and out ----
  /** One copy of the bytes into tensor-owned memory. */
  from_buffer(data: ArrayBufferView | ArrayBuffer, dtype: DTypeCode, shape: number[], device?: Device | null): Handle;
  /** The tensor's memory (no copy for a contiguous CPU tensor); keeps the tensor alive while referenced. */
  to_buffer(t: Handle): ArrayBuffer;
  item(t: Handle): number;

  // ---- creation and random numbers (dtype absent: float32; device absent: cpu) ----
  zeros: Create;
  ones: Create;
  empty: Create;
  full(shape: number[], value: number, dtype?: DTypeCode | null, device?: Device | null): Handle;
  arange(start: number, end: number, step: number, dtype?: DTypeCode | null, device?: Device | null): Handle;
  linspace(start: number, end: number, steps: number, dtype?: DTypeCode | null, device?: Device | null): Handle;
  eye(n: number, dtype?: DTypeCode | null, device?: Device | null): Handle;
  rand: Create;
  randn: Create;
  /** Integers in [low, high); int64 unless dtype is given. */
  randint(low: number, high: number, shape: number[], dtype?: DTypeCode | null, device?: Device | null): Handle;
  randperm(n: number, device?: Device | null): Handle;
  multinomial(probs: Handle, numSamples: number, replacement?: boolean): Handle;
  bernoulli(probs: Handle): Handle;
  /** In place; returns its first argument. */
  uniform_(t: Handle, low: number, high: number): Handle;
  normal_(t: Handle, mean: number, std: number): Handle;
  manual_seed(seed: number): void;
  rng_state(): Handle;
  set_rng_state(state: Handle): void;

  // ---- conversion (the `_` ops work in place and return their first argument) ----
  to_dtype(t: Handle, dtype: DTypeCode): Handle;
  to_device(t: Handle, device: Device): Handle;
  contiguous: Unary;
  clone: Unary;
  detach: Unary;
  copy_(dst: Handle, src: Handle): Handle;
  zero_(t: Handle): Handle;
  fill_(t: Handle, value: number): Handle;

  // ---- autograd ----
  requires_grad(t: Handle): boolean;
  set_requires_grad(t: Handle, flag?: boolean): Handle;
  is_leaf(t: Handle): boolean;
  retain_grad(t: Handle): Handle;
  backward(t: Handle, gradient?: Handle | null, retainGraph?: boolean): void;
  /** The accumulated gradient (a new handle), or null. */
  grad(t: Handle): Handle | null;
  has_grad(t: Handle): boolean;
  set_grad(t: Handle, grad: Handle | null): void;
  /** torch.autograd.grad; null where an input is not reached. */
  autograd_grad(
    outputs: Handle[],
    inputs: Handle[],
    gradOutputs?: Handle[] | null,
    retainGraph?: boolean,
    createGraph?: boolean,
  ): (Handle | null)[];
  /** Returns the previous setting. */
  set_grad_enabled(enabled?: boolean): boolean;
  is_grad_enabled(): boolean;

  // ---- runtime ----
  set_num_threads(n: number): void;
  get_num_threads(): number;
  cuda_is_available(): boolean;
  cuda_device_count(): number;
  cuda_synchronize(): void;
  cuda_manual_seed_all(seed: number): void;
  torch_version(): string;
  parallel_info(): string;

  // native/distributed.cc: the c10d process group of this process
  dist_init(
    masterAddr: string,
    masterPort: number,
    rank: number,
    worldSize: number,
    timeoutMs: number,
    backend: string,
    isServer: boolean,
    prefix: string,
  ): void;
  dist_is_initialized(): boolean;
  dist_destroy(): void;
  dist_store_set(key: string, value: string): void;
  dist_store_get(key: string): string;
  /** One tensor in the list (c10d's list is one tensor per local device). */
  dist_all_reduce(tensors: Handle[], op: string): void;
  dist_all_gather(t: Handle): Handle;
  dist_broadcast(tensors: Handle[], root: number): void;
  /** A gradient reducer over these parameters (hooks after their gradient accumulation), replacing any earlier one. */
  dist_reducer_init(params: Handle[], bucketBytes: number): void;
  /** Arms the reducer for the next backward. */
  dist_reducer_prepare(): void;
  /** Starts the buckets left, waits, averages the gradients; returns the buckets started during backward. */
  dist_reducer_finish(): number;

  // native/autocast.cc: torch.autocast's enter and exit, per device type
  /** Returns the state before (enabled, dtype code). */
  autocast_enter(deviceType: string, dtype: number, enabled: boolean): { enabled: boolean; dtype: number };
  autocast_exit(deviceType: string, prevEnabled: boolean, prevDtype: number): void;
  autocast_state(deviceType: string): { enabled: boolean; dtype: number };
  has_sdpa(): boolean;
  set_deterministic(on?: boolean): void;

  // ---- optimiser kernels (positional here; src/optim/kernels.ts gives them option objects) ----
  /** One torch.optim.AdamW step (amsgrad off) on the parameters that have a gradient. */
  adamw_step(
    params: Handle[],
    expAvgs: Handle[],
    expAvgSqs: Handle[],
    step: number,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
  ): void;
  /** One torch.optim.SGD step. */
  sgd_step(
    params: Handle[],
    momentumBuffers: Handle[],
    lr: number,
    momentum: number,
    dampening: number,
    weightDecay: number,
    nesterov?: boolean,
    first?: boolean,
  ): void;
  /** torch.nn.utils.clip_grad_norm_; returns the total norm before clipping. */
  clip_grad_norm(params: Handle[], maxNorm: number, normType: number): number;

  // ---- elementwise (ops.cc); every binary op has a `_s` twin taking a number ----
  neg: Unary;
  abs: Unary;
  exp: Unary;
  log: Unary;
  log1p: Unary;
  sqrt: Unary;
  rsqrt: Unary;
  sin: Unary;
  cos: Unary;
  sign: Unary;
  floor: Unary;
  ceil: Unary;
  round: Unary;
  reciprocal: Unary;
  logical_not: Unary;
  isnan: Unary;
  isfinite: Unary;
  add: Binary;
  add_s: WithScalar;
  sub: Binary;
  sub_s: WithScalar;
  mul: Binary;
  mul_s: WithScalar;
  div: Binary;
  div_s: WithScalar;
  pow: Binary;
  pow_s: WithScalar;
  maximum: Binary;
  maximum_s: WithScalar;
  minimum: Binary;
  minimum_s: WithScalar;
  eq: Binary;
  eq_s: WithScalar;
  ne: Binary;
  ne_s: WithScalar;
  lt: Binary;
  lt_s: WithScalar;
  le: Binary;
  le_s: WithScalar;
  gt: Binary;
  gt_s: WithScalar;
  ge: Binary;
  ge_s: WithScalar;
  remainder: Binary;
  remainder_s: WithScalar;
  /** s - a */
  rsub_s: WithScalar;
  /** s / a */
  rdiv_s: WithScalar;
  /** a + alpha * b */
  add_scaled(a: Handle, b: Handle, alpha: number): Handle;
  logical_and: Binary;
  logical_or: Binary;
  where(cond: Handle, a: Handle, b: Handle): Handle;
  where_s(cond: Handle, a: Handle, b: number): Handle;
  clamp(x: Handle, min?: number | null, max?: number | null): Handle;
  allclose(a: Handle, b: Handle, rtol: number, atol: number): boolean;
  equal(a: Handle, b: Handle): boolean;
  add_(t: Handle, other: Handle, alpha?: number | null): Handle;
  mul_s_(t: Handle, s: number): Handle;
  clamp_(t: Handle, min?: number | null, max?: number | null): Handle;

  // ---- reductions: dims [] means all dimensions ----
  sum(x: Handle, dims: number[], keepdim?: boolean, dtype?: DTypeCode | null): Handle;
  mean(x: Handle, dims: number[], keepdim?: boolean): Handle;
  max_all: Unary;
  min_all: Unary;
  /** [values, indices] */
  max_dim(x: Handle, dim: number, keepdim?: boolean): Pair;
  min_dim(x: Handle, dim: number, keepdim?: boolean): Pair;
  /** dim absent: the index into the flattened tensor. */
  argmax(x: Handle, dim?: number | null, keepdim?: boolean): Handle;
  argmin(x: Handle, dim?: number | null, keepdim?: boolean): Handle;
  logsumexp(x: Handle, dims: number[], keepdim?: boolean): Handle;
  /** correction 1 (unbiased) or 0 */
  var(x: Handle, dims: number[], correction: number, keepdim?: boolean): Handle;
  std(x: Handle, dims: number[], correction: number, keepdim?: boolean): Handle;
  norm(x: Handle, p: number, dims: number[], keepdim?: boolean): Handle;
  all: Unary;
  any: Unary;
  cumsum(x: Handle, dim: number): Handle;
  topk(x: Handle, k: number, dim: number, largest?: boolean): Pair;
  sort(x: Handle, dim: number, descending?: boolean): Pair;

  // ---- shape ----
  reshape: Reshape;
  view: Reshape;
  permute: Reshape;
  expand: Reshape;
  repeat: Reshape;
  transpose(x: Handle, dim0: number, dim1: number): Handle;
  /** dim absent: every dimension of size 1. */
  squeeze(x: Handle, dim?: number | null): Handle;
  unsqueeze(x: Handle, dim: number): Handle;
  flatten(x: Handle, startDim: number, endDim: number): Handle;
  narrow(x: Handle, dim: number, start: number, length: number): Handle;
  slice(x: Handle, dim: number, start: number, end: number, step: number): Handle;
  select(x: Handle, dim: number, index: number): Handle;
  flip(x: Handle, dims: number[]): Handle;
  tril(x: Handle, diagonal: number): Handle;
  triu(x: Handle, diagonal: number): Handle;
  cat(ts: Handle[], dim: number): Handle;
  stack(ts: Handle[], dim: number): Handle;
  /** Pieces of one size, or of the listed sizes. */
  split(x: Handle, sizeOrSizes: number | number[], dim: number): Handle[];
  chunk(x: Handle, chunks: number, dim: number): Handle[];
  unbind(x: Handle, dim: number): Handle[];

  // ---- indexing ----
  index_select(x: Handle, dim: number, index: Handle): Handle;
  gather(x: Handle, dim: number, index: Handle): Handle;
  scatter(x: Handle, dim: number, index: Handle, src: Handle): Handle;
  scatter_add(x: Handle, dim: number, index: Handle, src: Handle): Handle;
  masked_fill(x: Handle, mask: Handle, value: number): Handle;
  masked_select(x: Handle, mask: Handle): Handle;
  nonzero: Unary;
  /** x[i0, i1, ...] with null for ':'. */
  index(x: Handle, indices: (Handle | null)[]): Handle;
  /** Out of place x[indices] = values (accumulate adds). */
  index_put(x: Handle, indices: (Handle | null)[], values: Handle, accumulate?: boolean): Handle;
  one_hot(ids: Handle, numClasses: number): Handle;

  // ---- linear algebra ----
  matmul: Binary;
  mm: Binary;
  bmm: Binary;
  outer: Binary;
  linear(x: Handle, weight: Handle, bias?: Handle | null): Handle;
  einsum(equation: string, operands: Handle[]): Handle;

  // ---- neural-network functions, losses, fused blocks (nn_ops.cc) ----
  softmax(x: Handle, dim: number): Handle;
  log_softmax(x: Handle, dim: number): Handle;
  layer_norm(x: Handle, normalizedShape: number[], weight: Handle | null, bias: Handle | null, eps: number): Handle;
  /** tanhApproximation: gelu(approximate='tanh'). */
  gelu(x: Handle, tanhApproximation?: boolean): Handle;
  relu: Unary;
  tanh: Unary;
  sigmoid: Unary;
  erf: Unary;
  silu: Unary;
  logsigmoid: Unary;
  dropout(x: Handle, p: number, training?: boolean): Handle;
  embedding(weight: Handle, ids: Handle, paddingIdx?: number | null): Handle;
  conv2d(
    x: Handle,
    weight: Handle,
    bias: Handle | null,
    stride: number[],
    padding: number[],
    dilation: number[],
    groups: number,
  ): Handle;
  avg_pool2d(x: Handle, kernel: number[], stride: number[]): Handle;
  adaptive_avg_pool2d(x: Handle, size: number[]): Handle;
  /** Exactly one of size and scaleFactor. */
  interpolate(
    x: Handle,
    size: number[] | null,
    scaleFactor: number[] | null,
    mode: InterpolateMode,
    alignCorners?: boolean,
    antialias?: boolean,
  ): Handle;
  normalize(x: Handle, p: number, dim: number, eps: number): Handle;
  cross_entropy(
    logits: Handle,
    target: Handle,
    weight: Handle | null,
    ignoreIndex: number,
    labelSmoothing: number,
    reduction?: Reduction | null,
  ): Handle;
  nll_loss(
    logProbs: Handle,
    target: Handle,
    weight: Handle | null,
    ignoreIndex: number,
    reduction?: Reduction | null,
  ): Handle;
  bce_with_logits(
    logits: Handle,
    target: Handle,
    weight: Handle | null,
    posWeight: Handle | null,
    reduction?: Reduction | null,
  ): Handle;
  mse_loss(x: Handle, y: Handle, reduction?: Reduction | null): Handle;
  /** softmax(q kᵀ · scale + mask) v; scale 0 means 1/sqrt(head dim); dropoutP applies only when training. */
  attention(
    q: Handle,
    k: Handle,
    v: Handle,
    mask: Handle | null,
    dropoutP: number,
    training: boolean,
    scale: number,
    causal: boolean,
  ): Handle;
  activation(x: Handle, name: Activation): Handle;
  /** linear(w1, b1) -> activation -> linear(w2, b2) */
  mlp(x: Handle, w1: Handle, b1: Handle | null, w2: Handle, b2: Handle | null, act: Activation): Handle;
}

/** The declared names at run time, for the load-time check and the boundary test. */
export const ADDON_FUNCTIONS = [
  'dispose',
  'is_disposed',
  'shape',
  'strides',
  'dtype',
  'device',
  'numel',
  'is_contiguous',
  'same_storage',
  'nbytes',
  'from_buffer',
  'to_buffer',
  'item',
  'zeros',
  'ones',
  'empty',
  'full',
  'arange',
  'linspace',
  'eye',
  'rand',
  'randn',
  'randint',
  'randperm',
  'multinomial',
  'bernoulli',
  'uniform_',
  'normal_',
  'manual_seed',
  'rng_state',
  'set_rng_state',
  'to_dtype',
  'to_device',
  'contiguous',
  'clone',
  'detach',
  'copy_',
  'zero_',
  'fill_',
  'requires_grad',
  'set_requires_grad',
  'is_leaf',
  'retain_grad',
  'backward',
  'grad',
  'has_grad',
  'set_grad',
  'autograd_grad',
  'set_grad_enabled',
  'is_grad_enabled',
  'set_num_threads',
  'get_num_threads',
  'cuda_is_available',
  'cuda_device_count',
  'cuda_synchronize',
  'cuda_manual_seed_all',
  'torch_version',
  'parallel_info',
  'dist_init',
  'dist_is_initialized',
  'dist_destroy',
  'dist_store_set',
  'dist_store_get',
  'dist_all_reduce',
  'dist_all_gather',
  'dist_broadcast',
  'dist_reducer_init',
  'dist_reducer_prepare',
  'dist_reducer_finish',
  'autocast_enter',
  'autocast_exit',
  'autocast_state',
  'has_sdpa',
  'set_deterministic',
  'adamw_step',
  'sgd_step',
  'clip_grad_norm',
  'neg',
  'abs',
  'exp',
  'log',
  'log1p',
  'sqrt',
  'rsqrt',
  'sin',
  'cos',
  'sign',
  'floor',
  'ceil',
  'round',
  'reciprocal',
  'logical_not',
  'isnan',
  'isfinite',
  'add',
  'add_s',
  'sub',
  'sub_s',
  'mul',
  'mul_s',
  'div',
  'div_s',
  'pow',
  'pow_s',
  'maximum',
  'maximum_s',
  'minimum',
  'minimum_s',
  'eq',
  'eq_s',
  'ne',
  'ne_s',
  'lt',
  'lt_s',
  'le',
  'le_s',
  'gt',
  'gt_s',
  'ge',
  'ge_s',
  'remainder',
  'remainder_s',
  'rsub_s',
  'rdiv_s',
  'add_scaled',
  'logical_and',
  'logical_or',
  'where',
  'where_s',
  'clamp',
  'allclose',
  'equal',
  'add_',
  'mul_s_',
  'clamp_',
  'sum',
  'mean',
  'max_all',
  'min_all',
  'max_dim',
  'min_dim',
  'argmax',
  'argmin',
  'logsumexp',
  'var',
  'std',
  'norm',
  'all',
  'any',
  'cumsum',
  'topk',
  'sort',
  'reshape',
  'view',
  'permute',
  'expand',
  'repeat',
  'transpose',
  'squeeze',
  'unsqueeze',
  'flatten',
  'narrow',
  'slice',
  'select',
  'flip',
  'tril',
  'triu',
  'cat',
  'stack',
  'split',
  'chunk',
  'unbind',
  'index_select',
  'gather',
  'scatter',
  'scatter_add',
  'masked_fill',
  'masked_select',
  'nonzero',
  'index',
  'index_put',
  'one_hot',
  'matmul',
  'mm',
  'bmm',
  'outer',
  'linear',
  'einsum',
  'softmax',
  'log_softmax',
  'layer_norm',
  'gelu',
  'relu',
  'tanh',
  'sigmoid',
  'erf',
  'silu',
  'logsigmoid',
  'dropout',
  'embedding',
  'conv2d',
  'avg_pool2d',
  'adaptive_avg_pool2d',
  'interpolate',
  'normalize',
  'cross_entropy',
  'nll_loss',
  'bce_with_logits',
  'mse_loss',
  'attention',
  'activation',
  'mlp',
] as const satisfies readonly (keyof Addon)[];

// The list names every declared function: a name added to Addon but not to the list fails to compile here,
// naming the missing key.
type Unlisted = Exclude<keyof Addon, (typeof ADDON_FUNCTIONS)[number]>;
const everyFunctionListed: [Unlisted] extends [never] ? true : { unlisted: Unlisted } = true;
void everyFunctionListed;
