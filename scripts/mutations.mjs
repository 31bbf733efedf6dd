#!/usr/bin/env node
// Mutation check: small deliberate bugs, each applied alone to a COPY of the compiled code (dist/), each
// expected to make a named test file fail. Prints caught / NOT CAUGHT per mutation and exits 1 if any bug
// goes unnoticed, if a mutation no longer applies (its text is not found exactly once: keep this list in step
// with the code), or if the named tests fail without any mutation. Run after `npm run build`:
//   npm run test:mutations [-- name-substring ...]
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * file: a file of the copy (dist/... or bin/tandem.js); find: its exact text (once); replace: the bug; tests:
 * compiled test files under dist/test/ expected to fail.
 */
const MUTATIONS = [
  {
    name: 'exact GELU replaced by the tanh approximation',
    file: 'dist/src/models/common.js',
    find: "case 'gelu':\n            return 'gelu';",
    replace: "case 'gelu':\n            return 'gelu_tanh';",
    tests: ['models/vit.test.js', 'models/scaled.test.js'],
  },
  {
    name: 'BERT attention scale 1/d instead of 1/sqrt(d)',
    file: 'dist/src/models/bert.js',
    find: 'mask,\n            dropout: this.config.attention_probs_dropout_prob,',
    replace:
      'mask,\n            scale: 1 / q.shape[3],\n            dropout: this.config.attention_probs_dropout_prob,',
    tests: ['models/bert.test.js'],
  },
  {
    name: 'ViT attention scale 1/d instead of 1/sqrt(d)',
    file: 'dist/src/models/vit.js',
    find: 'F.attention(q, k, v, {\n            mask,\n            dropout: this.config.attention_probs_dropout_prob,',
    replace:
      'F.attention(q, k, v, {\n            mask,\n            scale: 1 / q.shape[3],\n            dropout: this.config.attention_probs_dropout_prob,',
    tests: ['models/scaled.test.js'],
  },
  {
    name: 'BERT LayerNorm eps: the nn default 1e-5 instead of the config',
    file: 'dist/src/models/bert.js',
    find: 'new LayerNorm(config.hidden_size, config.layer_norm_eps)',
    replace: 'new LayerNorm(config.hidden_size)',
    tests: ['models/bert.test.js'],
  },
  {
    name: "ViT LayerNorm eps: a fixed 1e-12, the config's ignored",
    file: 'dist/src/models/vit.js',
    find: 'new LayerNorm(h, config.layer_norm_eps));\n        this.layernorm_after',
    replace: 'new LayerNorm(h, 1e-12));\n        this.layernorm_after',
    tests: ['models/scaled.test.js'],
  },
  {
    name: 'first-token pooler without tanh',
    file: 'dist/src/models/common.js',
    find: 'return F.tanh(this.dense.forward(sequence.select(1, 0)));',
    replace: 'return this.dense.forward(sequence.select(1, 0));',
    tests: ['models/scaled.test.js'],
  },
  {
    name: 'ITC logits transposed (text rows over image rows swapped)',
    file: 'dist/src/objectives/itc.js',
    find: 'let perText = t.matmul((opts.queue ? cat([v, opts.queue.image]) : v).transpose(0, 1)).mul(scale);',
    replace: 'let perText = v.matmul((opts.queue ? cat([t, opts.queue.text]) : t).transpose(0, 1)).mul(scale);',
    tests: ['objectives/losses-golden.test.js'],
  },
  {
    name: 'ITC axis: the image-to-text loss taken over the text-to-image logits',
    file: 'dist/src/objectives/itc.js',
    find: '.add(F.crossEntropy(perImage, targets))',
    replace: '.add(F.crossEntropy(perText, targets))',
    tests: ['objectives/losses-golden.test.js'],
  },
  {
    name: 'ITC masking of duplicate images removed',
    file: 'dist/src/objectives/itc.js',
    find: 'if (imageKeys)\n        masks.push(duplicateMask(imageKeys));',
    replace: '',
    tests: ['objectives/objectives.test.js'],
  },
  {
    name: 'ITC logit scale not clamped at ln 100',
    file: 'dist/src/objectives/itc.js',
    find: 'logitScale.clamp(null, ITC_MAX_LOGIT_SCALE)',
    replace: 'logitScale',
    tests: ['objectives/objectives.test.js'],
  },
  {
    name: 'loss weights: CE weighted 1 - a instead of 1 - a - b',
    file: 'dist/src/objectives/combine.js',
    find: "w.mode === 'convex' ? 1 - a - b : 1",
    replace: "w.mode === 'convex' ? 1 - a : 1",
    tests: ['objectives/losses-golden.test.js', 'objectives/objectives.test.js'],
  },
  {
    name: 'resume does not restore the optimiser',
    file: 'dist/src/train/trainer.js',
    find: 'this.opt.loadStateDict({ tensors: optTensors, meta: st.optimizer });',
    replace: 'void optTensors;',
    tests: ['train/resume.test.js'],
  },
  {
    name: 'resume does not restore the learning-rate schedule',
    file: 'dist/src/train/trainer.js',
    find: 'this.sched.loadStateDict(st.scheduler);',
    replace: '',
    tests: ['train/resume.test.js'],
  },
  {
    name: 'resume does not restore the random generator',
    file: 'dist/src/train/trainer.js',
    find: 'setRngState(tensors.get(rngKey));',
    replace: '',
    tests: ['train/resume.test.js'],
  },
  {
    name: 'resume restarts the epoch (data position lost)',
    file: 'dist/src/train/trainer.js',
    find: 'this.train.batches(epoch, this.state.position)',
    replace: 'this.train.batches(epoch, 0)',
    tests: ['train/resume.test.js'],
  },
  {
    name: 'resume does not restore the ITC queue',
    file: 'dist/src/train/trainer.js',
    find: "this.queue.push(tensors.get('itc_queue.text'), tensors.get('itc_queue.image'));",
    replace: 'void 0;',
    tests: ['train/resume.test.js'],
  },
  {
    name: 'bin/tandem.js does not forward signals to the child',
    file: 'bin/tandem.js',
    find: 'child.kill(sig);',
    replace: 'void sig;',
    tests: ['cli/bin.test.js'],
  },
  {
    name: 'bin/tandem.js exits 1 whatever the child exited with',
    file: 'bin/tandem.js',
    find: 'process.exit(code ?? 1);',
    replace: 'process.exit(code ? 1 : 0);',
    tests: ['cli/bin.test.js'],
  },
  {
    name: 'TANDEM_NO_JEMALLOC ignored',
    file: 'dist/src/runtime/setup-env.js',
    find: 'env.TANDEM_NO_JEMALLOC ? null : findJemalloc()',
    replace: 'findJemalloc()',
    tests: ['cli/bin.test.js'],
  },
  {
    name: 'F1 as 2PR/(P+R) instead of 2tp/(true+pred)',
    file: 'dist/src/eval/classification.js',
    find: 'f1: divide(twoTp, f1Den, zeroDivision),',
    replace:
      'f1: c.tp.map((tp, i) => { const p = c.predSum[i] ? tp / c.predSum[i] : 0; const r = c.trueSum[i] ? tp / c.trueSum[i] : 0; return p + r ? (2 * p * r) / (p + r) : zeroDivision; }),',
    tests: ['eval/metrics-golden.test.js'],
  },
  {
    name: 'BPE merges: rightmost pair on equal ranks instead of leftmost',
    file: 'dist/src/text/models.js',
    find: 'if (m && m[0] < bestRank) {',
    replace: 'if (m && m[0] <= bestRank) {',
    tests: ['text/tokenizer-golden.test.js', 'text/tokenizer-components.test.js'],
  },
  {
    name: 'frozen image encoder: a short chunk run as it is (no padding to the chunk size)',
    file: 'dist/src/multimodal/frozen-chunks.js',
    find: 'if (k === rows)\n                    return k === n ? t : t.narrow(0, start, k);',
    replace: 'if (k <= rows)\n                    return t.narrow(0, start, k);',
    tests: ['multimodal/frozen-chunks.test.js'],
  },
  {
    name: 'training runs its frozen image encoder on whole batches (no fixed chunk size)',
    file: 'dist/src/train/experiment.js',
    find: 'model.setFrozenImageChunk(cfg.batchSize);',
    replace: 'void cfg.batchSize;',
    tests: ['train/feature-cache-stress.test.js'],
  },
  {
    name: 'feature-cache key without the chunk size',
    file: 'dist/src/train/experiment.js',
    find: '|chunk:${chunk}`',
    replace: '`',
    tests: ['train/feature-cache-stress.test.js'],
  },
  {
    name: 'in-process decoder used when EXIF orientation is asked for (it does not rotate)',
    file: 'dist/src/vision/decode.js',
    find: 'if (!opts.background && !opts.autoOrient && !opts.colourManage) {',
    replace: 'if (!opts.background && !opts.colourManage) {',
    tests: ['vision/edge-cases.test.js'],
  },
  {
    name: 'in-process decoder used when alpha is to be composited (it drops alpha)',
    file: 'dist/src/vision/decode.js',
    find: 'if (!opts.background && !opts.autoOrient && !opts.colourManage) {',
    replace: 'if (!opts.autoOrient && !opts.colourManage) {',
    tests: ['vision/decode.test.js'],
  },
  {
    name: 'in-process decoder used when colour profiles are to be applied (it ignores them)',
    file: 'dist/src/vision/decode.js',
    find: 'if (!opts.background && !opts.autoOrient && !opts.colourManage) {',
    replace: 'if (!opts.background && !opts.autoOrient) {',
    tests: ['vision/decode.test.js'],
  },
  {
    name: "serve decodes requests' images on the main thread, not in its image workers",
    file: 'dist/src/serve/server.js',
    find: '{ maxPixels, name: p.field, pool }',
    replace: '{ maxPixels, name: p.field }',
    tests: ['serve/server.test.js'],
  },
];

const filters = process.argv.slice(2);
const selected = filters.length ? MUTATIONS.filter((m) => filters.some((f) => m.name.includes(f))) : MUTATIONS;
if (!existsSync(join(root, 'dist', 'test'))) {
  console.error('dist/ not found: run `npm run build` first');
  process.exit(2);
}

// The copy: dist/, bin/ and package.json (it marks the package root) copied; the rest linked read-only.
const work = mkdtempSync(join(tmpdir(), 'tandem-mutations-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
for (const name of ['dist', 'bin', 'package.json']) cpSync(join(root, name), join(work, name), { recursive: true });
for (const name of ['build', 'node_modules', 'test', 'scripts'])
  if (existsSync(join(root, name))) symlinkSync(join(root, name), join(work, name));

const { processSetupEnv } = await import(join(root, 'dist', 'src', 'runtime', 'setup-env.js'));
const env = { ...process.env, ...(processSetupEnv(process.env) ?? {}) };

function runTests(tests) {
  const files = tests.map((t) => join(work, 'dist', 'test', t));
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=dot', ...files], {
    cwd: work,
    env,
    encoding: 'utf8',
    timeout: 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { failed: r.status !== 0, seconds: (Date.now() - t0) / 1000, output: (r.stdout ?? '') + (r.stderr ?? '') };
}

let bad = 0;
// Without a mutation the named tests pass (else "caught" would mean nothing).
const allTests = [...new Set(selected.flatMap((m) => m.tests))];
const base = runTests(allTests);
console.log(
  `baseline (no mutation): ${allTests.length} test files ${base.failed ? 'FAIL' : 'pass'} (${base.seconds.toFixed(0)} s)`,
);
if (base.failed) {
  console.log(base.output.slice(-4000));
  process.exit(1);
}
for (const m of selected) {
  const path = join(work, m.file);
  const original = readFileSync(path, 'utf8');
  const count = original.split(m.find).length - 1;
  if (count !== 1) {
    console.log(`DOES NOT APPLY  ${m.name}: text found ${count} times in ${m.file}`);
    bad++;
    continue;
  }
  writeFileSync(
    path,
    original.replace(m.find, () => m.replace),
  );
  try {
    const r = runTests(m.tests);
    console.log(
      `${r.failed ? 'caught     ' : 'NOT CAUGHT '} ${m.name} (${m.tests.join(', ')}; ${r.seconds.toFixed(0)} s)`,
    );
    if (!r.failed) bad++;
  } finally {
    writeFileSync(path, original);
  }
}
console.log(`${selected.length - bad} of ${selected.length} mutations caught`);
process.exit(bad ? 1 : 0);
