#!/usr/bin/env node
// bench/serve: a load generator on the loopback against `tandem serve` on a small trained run (ViLT from
// the golden tiny folder, random init, synthetic posts). Posts/s and p50/p99 latency at 1, 16 and 64
// concurrent clients (one post per request), with batching on (--max-batch 32) and off (--max-batch 1, the
// old one-at-a-time behaviour), then a soak of --soak requests (default 5000) at 16 clients with the server's
// RSS before and after. Flags: --requests=N per setting (default 400), --soak=N, --hidden=384 --layers=6
// (the served ViLT's width and depth).
// Last lines: `serve_batching_throughput_ratio_c16: <x>` (goal >= 2) and `serve_rss_growth_mib: <x>`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, env } from '../env.mjs';

const flag = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : dflt;
};
const perSetting = flag('requests', 400);
const hidden = flag('hidden', 0);
const layers = flag('layers', 4);
// --previous=path/to/dist/src/cli/run.js: also load a build of the previous server (one request at a time,
// temporary files), the baseline the issue measured.
const previous = process.argv.find((x) => x.startsWith('--previous='))?.split('=')[1];
const soakCount = flag('soak', 5000);
const cli = join(root, 'dist', 'src', 'cli', 'run.js');
const tmp = mkdtempSync(join(tmpdir(), 'tandem-bench-serve-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function tandem(args) {
  const r = spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tandem ${args.join(' ')}: ${r.stderr}`);
}
const data = join(tmp, 'synth');
tandem(['data', 'synth', '--out', data, '--count', '64', '--size', '32', '--style', 'plain']);
const run = join(tmp, 'run');
// --hidden=N --layers=N: the golden ViLT's architecture at that width and depth (default: the golden tiny
// model itself, whose forward pass is cheap next to HTTP, JSON and image decoding).
const config = join(tmp, 'vilt-size.json');
if (hidden)
  writeFileSync(
    config,
    JSON.stringify({
      model_config: {
        hidden_size: hidden,
        num_hidden_layers: layers,
        intermediate_size: 4 * hidden,
        num_attention_heads: hidden / 64,
      },
    }),
  );
tandem([
  'train',
  '--model',
  join(root, 'test', 'fixtures', 'golden', 'models', 'vilt'),
  '--init',
  'random',
  ...(hidden ? ['--config', config] : []),
  '--data',
  join(data, 'posts.jsonl'),
  '--out',
  run,
  '--steps',
  '3',
  '--epochs',
  '1',
  '--batch-size',
  '8',
  '--no-progress',
]);
const bodies = readFileSync(join(data, 'posts.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l))
  .map((p) => JSON.stringify({ id: p.id, text: p.text, image: readFileSync(join(data, p.image)).toString('base64') }));

async function startServe(maxBatch, entry = cli) {
  const args =
    entry === cli
      ? ['--max-batch', String(maxBatch), '--max-wait-ms', '5', '--no-access-log']
      : ['--batch-size', String(maxBatch)];
  const child = spawn(process.execPath, [entry, 'serve', '--run', run, '--port', '0', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`tandem serve exited with ${code}`)));
  });
  for (;;) {
    const r = await fetch(`${url}/${entry === cli ? 'ready' : 'health'}`).catch(() => null);
    if (r?.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    rssMiB: () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))[1]) / 1024,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

/** `total` requests from `clients` concurrent clients; posts/s and latency percentiles. */
async function load(url, clients, total) {
  const lat = [];
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) {
        const i = next++;
        const s = performance.now();
        const r = await fetch(`${url}/predict`, {
          method: 'POST',
          body: bodies[i % bodies.length],
          headers: { 'content-type': 'application/json' },
        });
        await r.arrayBuffer();
        if (r.status !== 200) errors++;
        lat.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  return { rate: total / seconds, p50: q(0.5), p99: q(0.99), errors };
}

const results = {};
for (const [mode, maxBatch, entry] of [
  ...(previous ? [['previous', 32, previous]] : []),
  ['one-at-a-time', 1, cli],
  ['batched', 32, cli],
]) {
  const server = await startServe(maxBatch, entry);
  await load(server.url, 4, 40); // warm the connections and the allocator
  let prev = [0, 0, 0];
  for (const clients of [1, 16, 64]) {
    const r = await load(server.url, clients, clients === 1 ? Math.ceil(perSetting / 2) : perSetting);
    results[`${mode}/${clients}`] = r;
    if (entry !== cli) r.batch = 'no metrics';
    const m = entry === cli ? await (await fetch(`${server.url}/metrics`)).text() : '';
    if (m) {
      const v = (name) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(m)[1]);
      const now = [v('tandem_batch_size_count'), v('tandem_batch_size_sum'), v('tandem_batch_duration_seconds_sum')];
      const [n, posts, secs] = now.map((x, k) => x - prev[k]);
      prev = now;
      r.batch = `mean batch ${(posts / n).toFixed(1)} posts, ${((secs / n) * 1000).toFixed(1)} ms`;
    }
    console.log(
      `${mode.padEnd(14)} --max-batch ${String(maxBatch).padStart(2)}  ${String(clients).padStart(2)} clients  ${r.rate.toFixed(1).padStart(7)} posts/s  p50 ${r.p50.toFixed(1).padStart(7)} ms  p99 ${r.p99.toFixed(1).padStart(7)} ms  (${r.batch})${r.errors ? `  ${r.errors} errors` : ''}`,
    );
  }
  console.log(`${mode}: server exited with ${await server.stop()}`);
}
const server = await startServe(32);
await load(server.url, 16, 200);
const before = server.rssMiB();
const soak = await load(server.url, 16, soakCount);
const afterRss = server.rssMiB();
console.log(
  `soak: ${soakCount} requests at 16 clients, ${soak.rate.toFixed(1)} posts/s, p99 ${soak.p99.toFixed(1)} ms, ${soak.errors} errors; server RSS ${before.toFixed(0)} -> ${afterRss.toFixed(0)} MiB`,
);
await server.stop();
console.log(
  `serve_batching_throughput_ratio_c16: ${(results['batched/16'].rate / results['one-at-a-time/16'].rate).toFixed(2)}`,
);
if (previous)
  console.log(
    `serve_batching_vs_previous_server_ratio_c16: ${(results['batched/16'].rate / results['previous/16'].rate).toFixed(2)}`,
  );
console.log(`serve_rss_growth_mib: ${(afterRss - before).toFixed(1)}`);
