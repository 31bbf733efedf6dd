#!/usr/bin/env node
// Runs the compiled tests (dist/test/**/*.test.js) with node's test runner.
// Arguments filter test files by substring: `node scripts/run-tests.mjs tensor io/safetensors`.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const testDir = join(root, 'dist', 'test');
if (!existsSync(testDir)) {
  console.error('dist/test not found: run `npm run build` first');
  process.exit(2);
}
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js')) files.push(p);
  }
})(testDir);
const filters = process.argv.slice(2);
const selected = filters.length ? files.filter((f) => filters.some((s) => relative(testDir, f).includes(s))) : files;
if (selected.length === 0) {
  console.error(`no test files match ${filters.join(', ')}`);
  process.exit(2);
}
// The tests run with the settings the `tandem` command gives itself (jemalloc, passive OpenMP waiting).
const { processSetupEnv } = await import(join(root, 'dist', 'src', 'runtime', 'setup-env.js'));
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...selected], {
  stdio: 'inherit',
  cwd: root,
  env: { ...process.env, ...(processSetupEnv(process.env) ?? {}) },
});
process.exit(r.status ?? 1);
