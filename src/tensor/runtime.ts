// Process-wide engine settings: threads, seeds and random state, devices, gradient mode.
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { N } from './native.js';
import { Tensor, type Device } from './tensor.js';

/** Physical cores when Linux tells them (hyper-threads share a core's FPUs), else logical CPUs. */
export function physicalCores(): number {
  try {
    const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    const cores = new Set<string>();
    let phys = '0';
    for (const line of cpuinfo.split('\n')) {
      const [k, v] = line.split(':').map((s) => s?.trim());
      if (k === 'physical id') phys = v ?? '0';
      if (k === 'core id') cores.add(`${phys}:${v}`);
    }
    if (cores.size > 0) return cores.size;
  } catch {
    // not Linux: fall through
  }
  return availableParallelism();
}

export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`tandem.setNumThreads: expected a positive integer, got ${n}`);
  N.set_num_threads(n);
}
export function getNumThreads(): number {
  return N.get_num_threads();
}

// Debian's libtorch starts with one thread on a 2-core machine (docs/design.md): default to the core count, or
// TANDEM_NUM_THREADS.
const envThreads = Number(process.env.TANDEM_NUM_THREADS);
setNumThreads(Number.isInteger(envThreads) && envThreads > 0 ? envThreads : physicalCores());

/** Seeds the global CPU generator (and CUDA's, when present). */
export function manualSeed(seed: number): void {
  N.manual_seed(seed);
  N.cuda_manual_seed_all(seed);
}
/** The CPU generator's state (a uint8 tensor), to save with a checkpoint. */
export function getRngState(): Tensor {
  return new Tensor(N.rng_state());
}
export function setRngState(state: Tensor): void {
  N.set_rng_state(state.handle);
}

export function cudaAvailable(): boolean {
  return N.cuda_is_available();
}
export function cudaDeviceCount(): number {
  return N.cuda_device_count();
}
export function synchronize(): void {
  N.cuda_synchronize();
}
/** Why `device` cannot be used by this process (no CUDA in this libtorch, no GPU visible, an index past the
 * visible GPUs), or null when it can: checked before any work so that a run does not fail at its first copy. */
export function deviceProblem(device: Device): string | null {
  if (device === 'cpu') return null;
  if (!cudaAvailable()) return `this libtorch (${torchVersion()}) has no CUDA or no GPU is visible`;
  const index = device === 'cuda' ? 0 : Number(device.slice('cuda:'.length));
  const count = cudaDeviceCount();
  return index < count ? null : `GPU ${index} requested but ${count} ${count === 1 ? 'is' : 'are'} visible`;
}
/** The best device here: cuda when a GPU is visible, else cpu. */
export function defaultDevice(): Device {
  return cudaAvailable() ? 'cuda' : 'cpu';
}
export function torchVersion(): string {
  return N.torch_version();
}
export function parallelInfo(): string {
  return N.parallel_info();
}
/** True when libtorch has scaled_dot_product_attention (2.x), which the attention block then uses. */
export function hasSdpa(): boolean {
  return N.has_sdpa();
}
export function setDeterministic(on: boolean): void {
  N.set_deterministic(on);
}

/** Runs fn with gradient recording off (fn must be synchronous). */
export function noGrad<T>(fn: () => T): T {
  const prev = N.set_grad_enabled(false);
  try {
    return fn();
  } finally {
    N.set_grad_enabled(prev);
  }
}
/** Runs fn with gradient recording on. */
export function enableGrad<T>(fn: () => T): T {
  const prev = N.set_grad_enabled(true);
  try {
    return fn();
  } finally {
    N.set_grad_enabled(prev);
  }
}
export function isGradEnabled(): boolean {
  return N.is_grad_enabled();
}

/** torch.autograd.grad: gradients of outputs with respect to inputs, without touching .grad. */
export function grad(
  outputs: Tensor[],
  inputs: Tensor[],
  opts: { gradOutputs?: Tensor[]; retainGraph?: boolean; createGraph?: boolean } = {},
): (Tensor | null)[] {
  const r = N.autograd_grad(
    outputs.map((t) => t.handle),
    inputs.map((t) => t.handle),
    opts.gradOutputs ? opts.gradOutputs.map((t) => t.handle) : null,
    opts.retainGraph ?? false,
    opts.createGraph ?? false,
  );
  return r.map((h) => (h ? new Tensor(h) : null));
}
