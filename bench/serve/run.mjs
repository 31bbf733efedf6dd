#!/usr/bin/env node
// bench/serve: a load generator on the loopback against `tandem serve` on a small trained run (ViLT from
// the golden tiny folder, random init, synthetic posts). Posts/s and p50/p99 latency at 1, 16 and 64
// concurrent clients (one post per request), with batching on (--max-batch 32) and off (--max-batch 1, the
// old one-at-a-time behaviour), then a soak of --soak requests (default 5000) at 16 clients with the server's
// RSS before and after. The machine is shared, so both servers stay up and are measured in turns, round after
// round (the order swapped each round): load from elsewhere falls on both alike, and each figure is the median
// over --rounds (default 5) with its range. Each setting also prints the server's CPU time per post (from
// /proc), which load from other processes disturbs far less than posts/s. The clients use node:http with
// keep-alive (cheaper per request than fetch, so that the load generator takes less of the CPU it shares with
// the server). Flags: --requests=N per setting and round (default 300), --rounds=N, --soak=N,
// --hidden=384 --layers=6 (the served ViLT's width and depth), --image-size=N (the posts' images are N x N
// pixels, default 32; photos are 10-20 times larger), --workers=N (the servers' image threads, default theirs).
// Then the CPU time per post of each stage of the server's path at batch sizes 1 and 16 (breakdown.mjs).
// Last lines: `serve_batching_throughput_ratio_c16: <x>` (goal >= 2; the median of the rounds' ratios) and
// `serve_rss_growth_mib: <x>`.
import { spawn, spawnSync } from 'node:child_process';
import { Agent, request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, env } from '../env.mjs';

const flag = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.split('=')[1]) : dflt;
};
const perSetting = flag('requests', 300);
const rounds = flag('rounds', 5);
const hidden = flag('hidden', 0);
const layers = flag('layers', 4);
// --previous=path/to/dist/src/cli/run.js: also load a build of the previous server (one request at a time,
// temporary files), the baseline the issue measured.
const previous = process.argv.find((x) => x.startsWith('--previous='))?.split('=')[1];
const soakCount = flag('soak', 5000);
const imageSize = flag('image-size', 32);
const workers = flag('workers', -1);
const cli = join(root, 'dist', 'src', 'cli', 'run.js');
const tmp = mkdtempSync(join(tmpdir(), 'tandem-bench-serve-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function tandem(args) {
  const r = spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tandem ${args.join(' ')}: ${r.stderr}`);
}
const data = join(tmp, 'synth');
tandem(['data', 'synth', '--out', data, '--count', '64', '--size', String(imageSize), '--style', 'plain']);
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
  .map((p) =>
    Buffer.from(
      JSON.stringify({ id: p.id, text: p.text, image: readFileSync(join(data, p.image)).toString('base64') }),
    ),
  );

const pageSize = 4096;
const ticks = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s
/** CPU seconds (user + system) and RSS (MiB) of a process, from /proc. */
function usage(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const v = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return { cpu: (Number(v[11]) + Number(v[12])) / ticks, rssMiB: (Number(v[21]) * pageSize) / 2 ** 20 };
}

async function startServe(maxBatch, entry = cli) {
  const args =
    entry === cli
      ? [
          ...['--max-batch', String(maxBatch), '--max-wait-ms', '5', '--no-access-log'],
          ...(workers >= 0 ? ['--workers', String(workers)] : []),
        ]
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
  // A bench that fails half-way leaves no server behind.
  process.on('exit', () => child.kill('SIGKILL'));
  for (;;) {
    const r = await fetch(`${url}/${entry === cli ? 'ready' : 'health'}`).catch(() => null);
    if (r?.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    usage: () => usage(child.pid),
    metrics: entry === cli ? async () => (await fetch(`${url}/metrics`)).text() : null,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });
/**
 * One POST /predict; resolves with the status once the whole answer has arrived. A kept-alive connection the
 * server closed while it sat idle (the other server's turn outlasts its keep-alive timeout) is retried once
 * on a new one, as Node's documentation advises (`request.reusedSocket`).
 */
function post(url, body, retry = true) {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/predict`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', (e) =>
      retry && req.reusedSocket && e.code === 'ECONNRESET' ? resolve(post(url, body, false)) : reject(e),
    );
    req.end(body);
  });
}

/** `total` requests from `clients` concurrent clients: posts/s, latency percentiles, server CPU per post. */
async function load(server, clients, total) {
  const lat = [];
  let next = 0;
  let errors = 0;
  const before = server.usage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) {
        const i = next++;
        const s = performance.now();
        if ((await post(server.url, bodies[i % bodies.length])) !== 200) errors++;
        lat.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpuMs = ((server.usage().cpu - before.cpu) / total) * 1000;
  lat.sort((a, b) => a - b);
  const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))];
  return { rate: total / seconds, p50: q(0.5), p99: q(0.99), cpuMs, errors };
}

/** Batches run and posts in them so far, and the time they took, from /metrics. */
async function batchTotals(server) {
  if (!server.metrics) return null;
  const m = await server.metrics();
  const v = (name) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(m)[1]);
  return {
    n: v('tandem_batch_size_count'),
    posts: v('tandem_batch_size_sum'),
    secs: v('tandem_batch_duration_seconds_sum'),
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const range = (xs) => `${Math.min(...xs).toFixed(2)}..${Math.max(...xs).toFixed(2)}`;

const modes = [
  ...(previous ? [{ name: 'previous', maxBatch: 32, entry: previous }] : []),
  { name: 'one-at-a-time', maxBatch: 1, entry: cli },
  { name: 'batched', maxBatch: 32, entry: cli },
];
for (const m of modes) {
  m.server = await startServe(m.maxBatch, m.entry);
  await load(m.server, 4, 40); // warm the connections and the allocator
}
const clientCounts = [1, 16, 64];
const results = {}; // `${mode}/${clients}` -> per-round results
console.log(
  `threads ${env.TANDEM_NUM_THREADS}; ${rounds} rounds of ${perSetting} requests per setting (half at 1 client), the servers in turns`,
);
for (let round = 0; round < rounds; round++)
  for (const clients of clientCounts) {
    const order = round % 2 ? [...modes].reverse() : modes;
    for (const m of order) {
      const before = await batchTotals(m.server);
      const r = await load(m.server, clients, clients === 1 ? Math.ceil(perSetting / 2) : perSetting);
      const after = await batchTotals(m.server);
      if (before && after) {
        r.meanBatch = (after.posts - before.posts) / (after.n - before.n);
        r.batchMs = ((after.secs - before.secs) / (after.n - before.n)) * 1000;
      }
      (results[`${m.name}/${clients}`] ??= []).push(r);
    }
  }
for (const m of modes)
  for (const clients of clientCounts) {
    const rs = results[`${m.name}/${clients}`];
    const med = (k) => median(rs.map((r) => r[k]));
    const errors = rs.reduce((a, r) => a + r.errors, 0);
    const batch =
      rs[0].meanBatch === undefined
        ? 'no metrics'
        : `mean batch ${med('meanBatch').toFixed(1)} posts, ${med('batchMs').toFixed(1)} ms`;
    console.log(
      `${m.name.padEnd(14)} --max-batch ${String(m.maxBatch).padStart(2)}  ${String(clients).padStart(2)} clients  ${med('rate').toFixed(1).padStart(7)} posts/s (${range(rs.map((r) => r.rate)).padStart(13)})  p50 ${med('p50').toFixed(1).padStart(6)} ms  p99 ${med('p99').toFixed(1).padStart(7)} ms  server CPU ${med('cpuMs').toFixed(2)} ms/post  (${batch})${errors ? `  ${errors} errors` : ''}`,
    );
  }
/** Per round, `a`'s posts/s over `b`'s at `clients` clients: the median and the range over rounds. */
function ratio(a, b, clients) {
  const xs = results[`${a}/${clients}`].map((r, k) => r.rate / results[`${b}/${clients}`][k].rate);
  return { median: median(xs), range: range(xs) };
}
const cpu = (mode, clients) => median(results[`${mode}/${clients}`].map((r) => r.cpuMs));
for (const clients of clientCounts) {
  const r = ratio('batched', 'one-at-a-time', clients);
  console.log(
    `batched / one-at-a-time at ${String(clients).padStart(2)} clients: posts/s x${r.median.toFixed(2)} (rounds ${r.range}); server CPU per post x${(cpu('one-at-a-time', clients) / cpu('batched', clients)).toFixed(2)} less`,
  );
}
for (const m of modes.filter((m) => m.name !== 'batched'))
  console.log(`${m.name}: server exited with ${await m.server.stop()}`);
const batched = modes.find((m) => m.name === 'batched').server;
await load(batched, 16, 200);
const rssBefore = batched.usage().rssMiB;
const soak = await load(batched, 16, soakCount);
const rssAfter = batched.usage().rssMiB;
console.log(
  `soak: ${soakCount} requests at 16 clients, ${soak.rate.toFixed(1)} posts/s, p99 ${soak.p99.toFixed(1)} ms, ${soak.errors} errors; server RSS ${rssBefore.toFixed(0)} -> ${rssAfter.toFixed(0)} MiB`,
);
console.log(`batched: server exited with ${await batched.stop()}`);
agent.destroy();
// Where a post's CPU time goes, stage by stage (bench/serve/breakdown.mjs), and what the servers spent beyond
// those stages (HTTP, the answer, queueing, threads handing work over; and time stolen by other processes).
const breakdown = spawnSync(
  process.execPath,
  [join(root, 'bench', 'serve', 'breakdown.mjs'), run, join(data, 'posts.jsonl')],
  { env, encoding: 'utf8' },
);
if (breakdown.status !== 0) throw new Error(`bench/serve/breakdown.mjs: ${breakdown.stderr}`);
process.stdout.write(breakdown.stdout.replace(/^breakdown_sum_ms: .*\n/m, ''));
const [sum1, sum16] = /^breakdown_sum_ms: (\S+) (\S+)/m.exec(breakdown.stdout).slice(1).map(Number);
console.log(
  `server CPU per post at 16 clients beyond those stages: one-at-a-time ${(cpu('one-at-a-time', 16) - sum1).toFixed(2)} ms, batched ${(cpu('batched', 16) - sum16).toFixed(2)} ms`,
);
const c16 = ratio('batched', 'one-at-a-time', 16);
console.log(`serve_batching_throughput_ratio_c16: ${c16.median.toFixed(2)} (rounds ${c16.range})`);
if (previous) {
  const p = ratio('batched', 'previous', 16);
  console.log(`serve_batching_vs_previous_server_ratio_c16: ${p.median.toFixed(2)} (rounds ${p.range})`);
}
console.log(`serve_rss_growth_mib: ${(rssAfter - rssBefore).toFixed(1)}`);
