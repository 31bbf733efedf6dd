// Mixed precision: libtorch's autocast around a region, so that matrix products and convolutions run in bf16
// (or fp16 on CUDA) while the weights, the optimiser state and the precision-sensitive ops stay in fp32, the
// same per-op policy as torch.autocast. Also: whether this machine has fast bf16, to tell the user once.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { N } from './native.js';
import { DTYPE_CODE, DTYPES, type DType } from './dtype.js';
import type { Device } from './tensor.js';

/** Training and inference precisions: fp32 (the default, reproducible), bf16 or fp16 autocast. */
export type Precision = 'fp32' | 'bf16' | 'fp16';
export const PRECISIONS: readonly Precision[] = ['fp32', 'bf16', 'fp16'];

/** The autocast dtype of a precision (null for fp32). */
export function precisionDType(p: Precision): 'bfloat16' | 'float16' | null {
  return p === 'bf16' ? 'bfloat16' : p === 'fp16' ? 'float16' : null;
}

function deviceType(device: Device | string): 'cpu' | 'cuda' {
  if (device === 'cpu') return 'cpu';
  if (/^cuda(:\d+)?$/.test(device)) return 'cuda';
  throw new TypeError(`autocast: device must be cpu, cuda or cuda:N, got '${device}'`);
}

/**
 * Checks that a precision can run on a device before a run starts: fp16 autocast exists on CUDA only
 * (libtorch's CPU autocast is bf16-only), and CUDA autocast needs a CUDA build of the addon.
 */
export function checkPrecision(p: Precision, device: Device | string, where = '--precision'): void {
  if (!(PRECISIONS as readonly string[]).includes(p))
    throw new TypeError(`${where}: expected one of ${PRECISIONS.join(', ')}, got '${p}'`);
  if (p === 'fp16' && deviceType(device) === 'cpu')
    throw new TypeError(`${where} fp16 needs a CUDA device (CPU autocast computes in bf16 only): use bf16 on cpu`);
}

/**
 * Runs the synchronous fn under autocast on a device type in dtype (as `with torch.autocast(device, dtype)`):
 * nested regions restore the outer state, and the cache of low-precision weight copies is cleared when the
 * outermost region ends. fn must not return a promise: autocast is per-thread state, and awaiting inside
 * would leave it on for whatever else runs on the event loop.
 */
export function withAutocast<T>(device: Device | string, dtype: 'bfloat16' | 'float16', fn: () => T): T {
  const type = deviceType(device);
  const prev = N.autocast_enter(type, DTYPE_CODE[dtype], true);
  let out: T;
  try {
    out = fn();
  } finally {
    N.autocast_exit(type, prev.enabled, prev.dtype);
  }
  if (out && typeof (out as { then?: unknown }).then === 'function')
    throw new TypeError('withAutocast: fn returned a promise; autocast regions must be synchronous');
  return out;
}

/** Runs fn in a precision on a device: fp32 runs it as is, bf16 / fp16 under autocast. */
export function withPrecision<T>(precision: Precision, device: Device | string, fn: () => T): T {
  const dtype = precisionDType(precision);
  return dtype ? withAutocast(device, dtype, fn) : fn();
}

/** Autocast's current state on a device type (for tests and diagnostics). */
export function autocastState(device: 'cpu' | 'cuda'): { enabled: boolean; dtype: DType } {
  const s = N.autocast_state(device);
  return { enabled: s.enabled, dtype: DTYPES[s.dtype] ?? 'float32' };
}

/** The CPU's bf16 instruction sets from /proc/cpuinfo (avx512_bf16, amx_bf16), empty when none or not Linux. */
export function cpuBf16Features(cpuinfo?: string): string[] {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      return [];
    }
  }
  const flags = new Set(/^flags\s*:(.*)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? []);
  return ['avx512_bf16', 'amx_bf16'].filter((f) => flags.has(f));
}

/** GPU 0's compute capability from nvidia-smi (bf16 tensor cores from 8.0 on), or null when unknown. */
function gpuComputeCapability(): number | null {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=compute_cap', '--format=csv,noheader'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    });
    const v = Number(out.trim().split('\n')[0]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/**
 * Why bf16 would be fast on this device, or null when it would not be: the CPU's bf16 instructions, or a
 * GPU of compute capability 8.0 or newer.
 */
export function fastBf16Reason(device: Device | string): string | null {
  if (deviceType(device) === 'cpu') {
    const f = cpuBf16Features();
    return f.length ? `this CPU has ${f.join(' and ')}` : null;
  }
  const cc = gpuComputeCapability();
  return cc !== null && cc >= 8 ? `this GPU (compute capability ${cc}) has bf16 tensor cores` : null;
}
