// What every benchmark runner shares: the repository root, the thread count, the environment the `tandem`
// command gives itself (jemalloc, passive OpenMP waiting) with the threads pinned for both engines, and the
// Python that has Debian's python3-torch (the peer).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
const { processSetupEnv } = await import(join(root, 'dist', 'src', 'runtime', 'setup-env.js'));
const { physicalCores } = await import(join(root, 'dist', 'src', 'tensor', 'runtime.js'));
export const threads = Number(process.env.TANDEM_NUM_THREADS) || physicalCores();
export const env = {
  ...process.env,
  ...(processSetupEnv(process.env) ?? {}),
  TANDEM_NUM_THREADS: String(threads),
  OMP_NUM_THREADS: String(threads),
};
export const python =
  process.env.TANDEM_BENCH_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
