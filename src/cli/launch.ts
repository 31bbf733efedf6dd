// `tandem train --nproc-per-node N`: starts N local processes of the same command as torchrun would (the
// environment MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE, LOCAL_RANK, the threads divided between them) and
// exits as they did: 0 when all succeeded, else the first failure's code. A process that fails makes the
// others stop within the collective timeout (they name the lost rank); any still running after that and a
// grace period are killed, so the launcher never hangs. Each process is tied to the launcher
// (src/runtime/parent-watch.ts): if the launcher dies, even of SIGKILL, they checkpoint and stop.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { tiedSpawn } from '../runtime/parent-watch.js';
import { signalExitCode } from './args.js';

/** A free TCP port on the loopback interface (for the store of a local process group). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolvePort(addr.port) : reject(new Error('no port'))));
    });
  });
}

export async function launchLocal(
  nproc: number,
  argv: string[],
  opts: { timeoutSeconds: number; log: (m: string) => void },
): Promise<number> {
  const port = await freePort();
  const threads = Math.max(1, Math.floor(availableParallelism() / nproc));
  opts.log(`starting ${nproc} processes (${threads} thread(s) each), rendezvous at 127.0.0.1:${port}`);
  const children: ChildProcess[] = [];
  const exits: Promise<{ rank: number; code: number }>[] = [];
  for (let rank = 0; rank < nproc; rank++) {
    const child = spawn(
      process.execPath,
      [...process.execArgv, process.argv[1]!, ...argv],
      tiedSpawn('inherit', {
        ...process.env,
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: String(port),
        RANK: String(rank),
        LOCAL_RANK: String(rank),
        WORLD_SIZE: String(nproc),
        LOCAL_WORLD_SIZE: String(nproc),
        TANDEM_NUM_THREADS: process.env.TANDEM_NUM_THREADS ?? String(threads),
        TANDEM_DIST_TIMEOUT: String(opts.timeoutSeconds),
        // so that rank 0's resume advice names the same number of processes
        TANDEM_NPROC_PER_NODE: String(nproc),
      }),
    );
    children.push(child);
    exits.push(
      new Promise((done) =>
        child.on('exit', (code, signal) => done({ rank, code: code ?? (signal ? signalExitCode(signal) : 129) })),
      ),
    );
  }
  const forward = (sig: NodeJS.Signals) => () => children.forEach((c) => c.exitCode === null && c.kill(sig));
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  let first: { rank: number; code: number } | null = null;
  let killer: NodeJS.Timeout | null = null;
  const pending = new Set(exits);
  try {
    while (pending.size) {
      const done = await Promise.race([...pending].map((p) => p.then((r) => ({ r, p }))));
      pending.delete(done.p);
      if (done.r.code !== 0 && !first) {
        first = done.r;
        opts.log(
          `rank ${done.r.rank} exited with code ${done.r.code}; the others stop within ${opts.timeoutSeconds} s`,
        );
        killer = setTimeout(
          () => children.forEach((c) => c.exitCode === null && c.kill('SIGKILL')),
          (opts.timeoutSeconds + 10) * 1000,
        );
      }
    }
  } finally {
    if (killer) clearTimeout(killer);
    for (const [s, h] of handlers) process.off(s, h);
  }
  return first ? first.code : 0;
}
