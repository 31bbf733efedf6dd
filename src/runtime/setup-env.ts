// Process settings that must be in place before libtorch loads (measured in docs/design.md): jemalloc instead of
// glibc's allocator, passive OpenMP and OpenBLAS waiting, and OpenBLAS's kernels named from the CPU's flags. Pure environment
// logic, no native code, so the `tandem` command can decide whether to re-execute itself before anything heavy
// loads.
import { existsSync, readFileSync } from 'node:fs';

const JEMALLOC_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib/libjemalloc.so.2',
  '/usr/local/lib/libjemalloc.so.2',
];

/** Path of an installed jemalloc, or null. */
export function findJemalloc(): string | null {
  return JEMALLOC_CANDIDATES.find((p) => existsSync(p)) ?? null;
}

/**
 * The OpenBLAS kernel set for a CPU with these /proc/cpuinfo flags, or null to leave OpenBLAS's own choice.
 * OpenBLAS 0.3.21 (Debian's, under libtorch) detects this machine's AVX-512 CPU as "Prescott" (generic SSE3
 * kernels) inside Node and inside Python with jemalloc preloaded: a 1024² fp32 matmul at 65 GFLOP/s on 2
 * threads, against 309 with SkylakeX kernels (measured here). The flags come from the kernel, which lists
 * AVX-512 only when the OS saves its registers, so the named kernels can run.
 */
export function openblasCoretype(cpuFlags: ReadonlySet<string>): string | null {
  const all = (...f: string[]) => f.every((x) => cpuFlags.has(x));
  if (all('avx512f', 'avx512cd', 'avx512bw', 'avx512dq', 'avx512vl')) return 'SkylakeX';
  if (all('avx2', 'fma')) return 'Haswell';
  return null;
}

/** The flags of the first CPU in /proc/cpuinfo (empty where there is none: other systems, other archs). */
function cpuFlags(): Set<string> {
  try {
    const m = /^flags\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return new Set(m ? m[1]!.split(/\s+/) : []);
  } catch {
    return new Set();
  }
}

/**
 * The environment variables this process still lacks, or null when it already has them. Set
 * TANDEM_NO_JEMALLOC=1 to keep glibc's allocator. Library users run their script with these variables
 * (for example `node --import tandem/setup ...` is not enough: LD_PRELOAD must precede the process);
 * `tandemEnvironmentCommand()` prints the line to use.
 */
export function processSetupEnv(env: NodeJS.ProcessEnv): Record<string, string> | null {
  const want: Record<string, string> = {};
  if (!env.OMP_WAIT_POLICY) want.OMP_WAIT_POLICY = 'PASSIVE';
  // Debian's OpenBLAS (the pthread build) has threads of its own beside libtorch's OpenMP ones, and after each
  // product they split they spin in sched_yield for 2^28 cycles (0.1 s here) before sleeping: between the
  // products of a forward pass and long after it, one took CPU from what else the process does (a quarter of
  // `tandem serve`'s CPU under load, beside HTTP and image decoding) and from other processes. 2^4 cycles
  // (OpenBLAS's least) lets them sleep at once, as OMP_WAIT_POLICY=PASSIVE does OpenMP's.
  if (env.OPENBLAS_THREAD_TIMEOUT === undefined) want.OPENBLAS_THREAD_TIMEOUT = '4';
  // a value the user set, even empty, is theirs
  if (env.OPENBLAS_CORETYPE === undefined) {
    const core = openblasCoretype(cpuFlags());
    if (core) want.OPENBLAS_CORETYPE = core;
  }
  const jemalloc = env.TANDEM_NO_JEMALLOC ? null : findJemalloc();
  if (jemalloc && !(env.LD_PRELOAD ?? '').includes('jemalloc')) {
    want.LD_PRELOAD = env.LD_PRELOAD ? `${jemalloc}:${env.LD_PRELOAD}` : jemalloc;
    if (!env.MALLOC_CONF) want.MALLOC_CONF = 'dirty_decay_ms:-1,muzzy_decay_ms:-1';
  }
  return Object.keys(want).length ? want : null;
}

/** A shell prefix that gives a library user's own script the same settings as the `tandem` command. */
export function tandemEnvironmentCommand(env: NodeJS.ProcessEnv = process.env): string {
  const want = processSetupEnv(env) ?? {};
  return Object.entries(want)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}
