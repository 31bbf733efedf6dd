// Process settings that must be in place before libtorch loads (measured in docs/design.md): jemalloc instead of
// glibc's allocator, and passive OpenMP waiting. Pure environment logic, no native code, so the `tandem`
// command can decide whether to re-execute itself before anything heavy loads.
import { existsSync } from 'node:fs';

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
 * The environment variables this process still lacks, or null when it already has them. Set
 * TANDEM_NO_JEMALLOC=1 to keep glibc's allocator. Library users run their script with these variables
 * (for example `node --import tandem/setup ...` is not enough: LD_PRELOAD must precede the process);
 * `tandemEnvironmentCommand()` prints the line to use.
 */
export function processSetupEnv(env: NodeJS.ProcessEnv): Record<string, string> | null {
  const want: Record<string, string> = {};
  if (!env.OMP_WAIT_POLICY) want.OMP_WAIT_POLICY = 'PASSIVE';
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
