#!/usr/bin/env node
// bench/serve/breakdown.mjs RUN POSTS_JSONL: the CPU time per post of each stage of `tandem serve`'s path for
// one-post requests, run one stage at a time in this process (so that load from elsewhere and the stages'
// own threads do not mix), at batch sizes 1 and 16: what batching shares (tokenising and stacking, the
// forward pass) and what it cannot (JSON and base64, image decoding, preprocessing). bench/serve/run.mjs
// starts it with the environment the `tandem` command gives itself. Prints one line per stage and the sums.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { root } from '../env.mjs';

const [run, postsFile] = process.argv.slice(2);
if (!run || !postsFile) {
  console.error('usage: node bench/serve/breakdown.mjs RUN POSTS_JSONL');
  process.exit(2);
}
const dist = (p) => import(join(root, 'dist', 'src', p));
const inference = await dist('inference/index.js');
const { disposeBatch, sha1Hex } = await dist('data/pipeline/index.js');
const { parseJsonPosts } = await dist('serve/inputs.js');
const { decodeImage, processImage, inProcessDecoder } = await dist('vision/index.js');

const loaded = inference.openRun(run, 'best', 'cpu');
loaded.model.eval();
const encoder = loaded.encoder(false);
const bodies = readFileSync(postsFile, 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l))
  .map((p) =>
    Buffer.from(
      JSON.stringify({
        id: p.id,
        text: p.text,
        image: readFileSync(join(dirname(postsFile), p.image)).toString('base64'),
      }),
    ),
  );
const raw = bodies.map((b) => parseJsonPosts(b, 1)[0]);
const images = await Promise.all(raw.map((r) => decodeImage(r.image)));
const decoded = await Promise.all(raw.map((r) => inference.decodePost(encoder, r)));

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** CPU ms per call of `fn(i)` over n calls (awaited one after another), after a few warm-up calls. */
async function perCall(fn, n) {
  for (let i = 0; i < 20; i++) await fn(i);
  const t0 = cpuMs();
  for (let i = 0; i < n; i++) await fn(i);
  return (cpuMs() - t0) / n;
}
const k = bodies.length;
const groups = (b) => Array.from({ length: 3 }, (_, g) => decoded.slice((g * b) % (k - b), ((g * b) % (k - b)) + b));
const stages = [];
const perPost = async (name, fn, n) => {
  const ms = await perCall(fn, n);
  stages.push([name, ms, ms]);
};
const perBatch = async (name, fn) => {
  const row = [name];
  for (const b of [1, 16]) {
    const sets = groups(b);
    row.push((await perCall((i) => fn(sets[i % 3]), Math.round(1600 / b))) / b);
  }
  stages.push(row);
};
await perPost('JSON body and base64', (i) => parseJsonPosts(bodies[i % k], 1), 2000);
await perPost(
  `image decode (${inProcessDecoder ? 'in the process: libjpeg-turbo, libpng' : 'sharp/libvips'})`,
  (i) => decodeImage(raw[i % k].image),
  1000,
);
await perPost('image preprocessing', (i) => processImage(encoder.imageConfig, images[i % k], encoder.backend), 2000);
await perPost('image key (sha1)', (i) => sha1Hex(raw[i % k].image), 2000);
await perBatch('tokenise and stack (batchOfDecoded)', (posts) =>
  disposeBatch(inference.batchOfDecoded(encoder, posts, 'cpu')),
);
const batches = new Map();
await perBatch('forward pass (predictBatch)', (posts) => {
  if (!batches.has(posts)) batches.set(posts, inference.batchOfDecoded(encoder, posts, 'cpu'));
  inference.predictBatch(loaded.model, batches.get(posts), loaded.multiLabel);
});
for (const b of batches.values()) disposeBatch(b);
loaded.model.dispose();

const sum = [1, 2].map((c) => stages.reduce((a, r) => a + r[c], 0));
console.log('server path, CPU ms per post (this process, one stage at a time):     batch 1   batch 16');
for (const [name, b1, b16] of stages)
  console.log(`  ${name.padEnd(62)} ${b1.toFixed(3).padStart(8)} ${b16.toFixed(3).padStart(9)}`);
console.log(`  ${'sum'.padEnd(62)} ${sum[0].toFixed(3).padStart(8)} ${sum[1].toFixed(3).padStart(9)}`);
console.log(`breakdown_sum_ms: ${sum[0].toFixed(3)} ${sum[1].toFixed(3)}`);
