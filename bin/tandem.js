#!/usr/bin/env node
// Entry point of the `tandem` command. Before loading libtorch it makes sure the process runs with the
// settings measured to matter (see docs/design.md): jemalloc preloaded when installed, and OMP_WAIT_POLICY=PASSIVE.
// Both must be in the environment before the process starts, so the command re-executes itself once; the
// parent forwards signals (Ctrl-C and SIGTERM let `tandem train` save a resumable checkpoint) and exits as the
// child did. The child is tied to the parent by an IPC channel (src/runtime/parent-watch.ts): if the parent
// dies of a signal it cannot forward (SIGKILL), the child stops too, after a checkpoint when it trains.
import { processSetupEnv } from '../dist/src/runtime/setup-env.js';
import { tiedSpawn } from '../dist/src/runtime/parent-watch.js';

const wanted = processSetupEnv(process.env);
if (wanted && !process.env.TANDEM_REEXEC) {
  const { spawn } = await import('node:child_process');
  const child = spawn(
    process.execPath,
    [...process.execArgv, ...process.argv.slice(1)],
    tiedSpawn('inherit', { ...process.env, ...wanted, TANDEM_REEXEC: '1' }),
  );
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      // A terminal's Ctrl-C reaches the whole process group: the child has it already.
      if (sig !== 'SIGINT' || !process.stdin.isTTY) child.kill(sig);
    });
  }
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
} else {
  const { main } = await import('../dist/src/cli/main.js');
  process.exitCode = await main(process.argv.slice(2));
}
