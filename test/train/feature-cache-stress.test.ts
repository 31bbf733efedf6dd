// Several training runs sharing one --feature-cache folder at once, on a cache that a run over half the posts
// filled first (so every batch is partly cached, with features computed in other batches), two of them killed
// with SIGKILL in the middle of writing an entry (the TANDEM_TEST_FEATURE_CACHE_WRITE_MS hook pauses each
// write after its header), then rerun: every finished run must match a run without the cache to the bit, at
// step 1 and in its final parameters, and every entry must be the bytes a run alone on an empty cache writes.
// Also: a bf16 run reads from its cache exactly what it would have computed (the features are computed in the
// run's precision, and the cache key names it and the chunk size).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { CLI, TINY_LATE_FUSION, maxDiff, synthData, waitFor } from '../helpers/train.js';

const tmp = mkdtempSync(join(tmpdir(), 'tandem-fc-stress-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const data = synthData(join(tmp, 'data'), 48);
// Every other post of the same data (same images, same splits): a run over it fills a cache with features
// computed in other batch compositions than a run over all posts makes.
const half = join(tmp, 'data', 'half.jsonl');
writeFileSync(
  half,
  readFileSync(data, 'utf8')
    .split('\n')
    .filter((line, i) => line && i % 2 === 0)
    .join('\n') + '\n',
);
// Late fusion over the tiny golden BERT and ViT with random weights: the image encoder is frozen, so its
// features are what the cache holds. One thread each, so that the runs' numbers do not depend on the load.
const argsFor = (posts: string) => [
  ...TINY_LATE_FUSION,
  '--no-progress',
  '--data',
  posts,
  '--epochs',
  '1',
  '--batch-size',
  '8',
  '--seed',
  '5',
];
const ARGS = argsFor(data);
const ENV = { TANDEM_NUM_THREADS: '1' };

function start(out: string, cache: string | null, env: Record<string, string> = {}, args0: string[] = ARGS) {
  const args = ['train', ...args0, '--out', out, ...(cache ? ['--feature-cache', cache] : [])];
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...ENV, ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: string | null }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal })),
  );
  return { child, out, done, stderr: () => stderr };
}

const firstStep = (run: string) => JSON.parse(readFileSync(join(run, 'log.jsonl'), 'utf8').split('\n')[0]!);
const params = (run: string) => join(run, 'last', 'model.safetensors');

/** Every file under the cache folder (relative paths). */
const files = (dir: string) => (existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : []);
/** The temp files of writers in progress (or killed): `.<entry>.<pid>.<random>.tmp`. */
const temps = (dir: string) => files(dir).filter((f) => basename(f).endsWith('.tmp'));
const pidOf = (temp: string) => Number(basename(temp).split('.').at(-3));

/**
 * A cached run against the uncached one: equal to the bit. The frozen encoder runs on chunks of --batch-size
 * images (frozen-chunks.ts), so the features of an image are the same bits whether the uncached run computed
 * them with its batch, or a cached run computed them with the missing images of a partly cached batch.
 */
function sameAsUncached(run: string, plain: string, what: string): void {
  const a = firstStep(plain);
  const b = firstStep(run);
  assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort(), `${what}: the step-1 log line's fields`);
  for (const k of ['loss', 'ce', 'itc', 'itm', 'grad_norm'].filter((f) => f in a)) {
    assert.equal(b[k], a[k], `${what}: step-1 ${k} ${b[k]} vs ${a[k]} without the cache`);
  }
  const d = maxDiff(params(run), params(plain));
  console.log(`${what}: final parameters differ from the uncached run's by at most ${d}`);
  assert.equal(d, 0, `${what}: final parameters differ from the uncached run's by ${d}`);
}

test('4 runs share a feature cache, 2 killed mid-write and rerun: all equal the uncached run to the bit', async () => {
  const plain = join(tmp, 'plain');
  const p = start(plain, null);
  assert.equal((await p.done).code, 0, p.stderr());
  // A run alone on an empty cache computes every batch whole, as the uncached run does: its entries are the
  // uncached run's features, which every entry the shared runs leave must equal byte for byte. (The losses
  // and parameters below barely feel a feature's last bit: this is the sharp check.)
  const coldCache = join(tmp, 'cold-cache');
  const cold = start(join(tmp, 'cold'), coldCache);
  assert.equal((await cold.done).code, 0, cold.stderr());
  sameAsUncached(cold.out, plain, 'cold cache');

  const cache = join(tmp, 'cache');
  // A run over half the posts fills the cache first: every run below finds its batches partly cached, with
  // features computed in other batches, and computes the rest.
  const filler = start(join(tmp, 'filler'), cache, {}, argsFor(half));
  assert.equal((await filler.done).code, 0, filler.stderr());
  assert.equal(files(cache).filter((f) => f.endsWith('.safetensors')).length, 24, 'the half run cached 24 images');
  // every entry write pauses after its header: 60 ms, so that the runs overlap their writes, and 2 s in the two
  // runs to be killed, so that the kill lands mid-file however late the poll sees the write
  const slow = (ms: number) => ({ TANDEM_TEST_FEATURE_CACHE_WRITE_MS: String(ms) });
  const runs = [0, 1, 2, 3].map((i) => start(join(tmp, `shared-${i}`), cache, slow(i < 2 ? 2000 : 60)));
  const killed: number[] = [];
  for (const victim of [runs[0]!, runs[1]!]) {
    const pid = victim.child.pid!;
    await waitFor(() => temps(cache).some((t) => pidOf(t) === pid), `a cache write of run ${pid}`);
    process.kill(pid, 'SIGKILL');
    killed.push(pid);
  }
  const ends = await Promise.all(runs.map((r) => r.done));
  assert.deepEqual(
    ends.slice(0, 2).map((e) => e.signal),
    ['SIGKILL', 'SIGKILL'],
  );
  for (const [i, e] of ends.entries()) if (i >= 2) assert.equal(e.code, 0, runs[i]!.stderr());
  // the killed writers left partial temp files (a header, no data), never a partial entry
  const left = temps(cache).filter((t) => killed.includes(pidOf(t)));
  assert.ok(left.length >= 2, `temp files of the killed runs: ${left.join(', ')}`);
  const entrySize = statSync(
    join(
      cache,
      files(cache).find((f) => f.endsWith('.safetensors'))!,
    ),
  ).size;
  for (const t of left) assert.ok(statSync(join(cache, t)).size < entrySize, `${t} is partial`);

  // the killed runs again, from scratch, both at once, on the cache as the kills left it
  const again = [0, 1].map((i) => start(join(tmp, `again-${i}`), cache));
  for (const r of again) assert.equal((await r.done).code, 0, r.stderr());

  // concurrent runs and reruns find batches partly cached (another run wrote some of their entries) and
  // compute only the rest, padded to a full chunk: still equal to the bit
  for (const r of [runs[2]!, runs[3]!, ...again]) sameAsUncached(r.out, plain, r.out);
  // one entry per image (48 posts, 48 images), whoever wrote it, each the bytes the cold run wrote
  const entries = files(cache).filter((f) => f.endsWith('.safetensors'));
  assert.equal(entries.length, 48);
  assert.deepEqual(
    entries.sort(),
    files(coldCache)
      .filter((f) => f.endsWith('.safetensors'))
      .sort(),
  );
  const differ = entries.filter((f) => !readFileSync(join(cache, f)).equals(readFileSync(join(coldCache, f))));
  console.log(`shared cache: ${differ.length} of ${entries.length} entries differ from the cold run's`);
  assert.deepEqual(differ, [], 'entries that differ from the features of a run alone on an empty cache');
});

test('a bf16 run trains the same with and without its feature cache, cold and warm', () => {
  const bf16 = [...ARGS, '--precision', 'bf16', '--steps', '3'];
  const run = (out: string, cache?: string) => {
    const r = runCli(['train', ...bf16, '--out', out, ...(cache ? ['--feature-cache', cache] : [])], { env: ENV });
    assert.equal(r.status, 0, r.stderr);
    return out;
  };
  const plain = run(join(tmp, 'bf16-plain'));
  const cache = join(tmp, 'bf16-cache');
  sameAsUncached(run(join(tmp, 'bf16-cold'), cache), plain, 'bf16, cold cache');
  sameAsUncached(run(join(tmp, 'bf16-warm'), cache), plain, 'bf16, warm cache');
  // the key names the precision: an fp32 run does not read the bf16 entries
  const fp32 = join(tmp, 'fp32-same-cache');
  assert.equal(
    runCli(['train', ...ARGS, '--steps', '3', '--out', fp32, '--feature-cache', cache], { env: ENV }).status,
    0,
  );
  assert.equal(readdirSync(cache).filter((d) => !d.startsWith('.')).length, 2, 'one folder per precision');
  // and the chunk size (--batch-size): a bf16 run with batches of 4 computes its features in chunks of 4, whose
  // last bits differ, so it does not read the entries of chunks of 8 either
  const chunk4 = join(tmp, 'bf16-batch-4');
  assert.equal(
    runCli(
      [
        'train',
        ...bf16.map((a, i) => (bf16[i - 1] === '--batch-size' ? '4' : a)),
        '--out',
        chunk4,
        '--feature-cache',
        cache,
      ],
      { env: ENV },
    ).status,
    0,
  );
  assert.equal(readdirSync(cache).filter((d) => !d.startsWith('.')).length, 3, 'one folder per chunk size');
});
