#!/usr/bin/env node
// Entry point of the `tandem` command. Before loading libtorch it makes sure the process runs with the
// settings measured to matter (see DESIGN.md): jemalloc preloaded when installed, and OMP_WAIT_POLICY=PASSIVE.
// Both must be in the environment before the process starts, so the command re-executes itself once.
import { processSetupEnv } from '../dist/src/runtime/setup-env.js';

const wanted = processSetupEnv(process.env);
if (wanted && !process.env.TANDEM_REEXEC) {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, ...wanted, TANDEM_REEXEC: '1' },
  });
  if (r.signal) process.kill(process.pid, r.signal);
  process.exit(r.status ?? 1);
}
const { main } = await import('../dist/src/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
