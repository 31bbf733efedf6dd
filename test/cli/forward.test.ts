// `tandem forward` on the golden model folders: the written outputs match the Hugging Face references within
// 1e-4; Hub ids resolve through the offline cache; --family; bad usage and bad input give exit code 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors, writeSafetensors } from '../../src/io/safetensors.js';
import { GOLDEN, REPO_ROOT, runCli } from '../helpers/cli.js';
import { synthData } from '../helpers/train.js';

const MODELS = join(GOLDEN, 'models');
const tmp = mkdtempSync(join(tmpdir(), 'tandem-forward-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function floats(data: Buffer): Float32Array {
  return new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

/**
 * Max abs difference per golden forward output (grad.*, param_after_step.* and the losses are not forward
 * outputs). `*_unordered` outputs ([B, N, D], the reference's order is random) are compared as sets of rows:
 * each reference row against the closest of ours.
 */
function compareToGolden(outFile: string, goldenDir: string, prefix = ''): Map<string, number> {
  const got = new Map(
    [...readSafetensors(outFile).tensors]
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, t]) => [k.slice(prefix.length), { dtype: t.dtype, shape: t.shape, data: floats(t.data) }]),
  );
  const ref = readSafetensors(join(goldenDir, 'outputs.safetensors')).tensors;
  // ViLT: the golden file holds transformers' last_hidden_state as its text rows and its image rows apart
  const all = got.get('last_hidden_state');
  const image = ref.get('image_last_hidden_state_unordered');
  if (all && image && !got.has('image_last_hidden_state_unordered')) {
    const [B, N, D] = all.shape as [number, number, number];
    const T = N - image.shape[1]!;
    const part = (from: number, n: number) => ({
      dtype: all.dtype,
      shape: [B, n, D],
      data: Float32Array.from({ length: B * n * D }, (_, i) => {
        const [b, r, k] = [Math.floor(i / (n * D)), Math.floor(i / D) % n, i % D];
        return all.data[(b * N + from + r) * D + k]!;
      }),
    });
    got.set('text_last_hidden_state', part(0, T));
    got.set('image_last_hidden_state_unordered', part(T, N - T));
  }
  const diffs = new Map<string, number>();
  for (const [name, r] of ref) {
    if (name.startsWith('grad.') || name.startsWith('param_after_step.') || name === 'loss' || name.endsWith('_loss'))
      continue;
    const g = got.get(name);
    assert.ok(g, `${outFile}: no ${name} (has ${[...got.keys()].join(', ')})`);
    assert.deepEqual(g.shape, r.shape, `${name} shape`);
    assert.equal(g.dtype, 'float32');
    const a = g.data;
    const b = floats(r.data);
    let d = 0;
    if (name.endsWith('_unordered')) {
      const [batch, rows, width] = r.shape as [number, number, number];
      const rowDiff = (x: number, y: number, bi: number) => {
        let m = 0;
        for (let k = 0; k < width; k++)
          m = Math.max(m, Math.abs(a[(bi * rows + x) * width + k]! - b[(bi * rows + y) * width + k]!));
        return m;
      };
      for (let bi = 0; bi < batch; bi++)
        for (let y = 0; y < rows; y++) {
          let best = Infinity;
          for (let x = 0; x < rows; x++) best = Math.min(best, rowDiff(x, y, bi));
          d = Math.max(d, best);
        }
    } else for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
    diffs.set(name, d);
  }
  return diffs;
}

function forward(model: string, inputsDir: string, out: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  return runCli(
    ['forward', '--model', model, '--inputs', join(inputsDir, 'inputs.safetensors'), '--out', out, ...extra],
    { env },
  );
}

const families = readdirSync(MODELS).sort();

for (const name of families) {
  test(`tandem forward on the golden ${name} folder writes outputs within 1e-4 of the reference`, () => {
    const out = join(tmp, `${name}.safetensors`);
    const r = forward(join(MODELS, name), join(MODELS, name), out);
    assert.equal(r.status, 0, r.stderr);
    for (const [k, d] of compareToGolden(out, join(MODELS, name))) {
      console.log(`forward ${name} ${k}: max abs diff ${d.toExponential(2)}`);
      assert.ok(d < 1e-4, `${name} ${k}: ${d}`);
    }
    assert.match(
      r.stdout,
      new RegExp(`wrote \\d+ tensors to .*${name}\\.safetensors \\(${name.replace('-itm', '')}, cpu\\)`),
    );
  });
}

test('--json prints every output with dtype and shape, and the write leaves no temporary files', () => {
  const dir = mkdtempSync(join(tmp, 'json-'));
  const out = join(dir, 'o.safetensors');
  const r = forward(join(MODELS, 'bert'), join(MODELS, 'bert'), out, ['--json']);
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { family: string; outputs: { name: string; dtype: string; shape: number[] }[] };
  assert.equal(s.family, 'bert');
  const byName = new Map(s.outputs.map((o) => [o.name, o]));
  assert.deepEqual(byName.get('logits'), { name: 'logits', dtype: 'float32', shape: [4, 3] });
  assert.deepEqual(byName.get('hidden_states.2')?.shape, [4, 16, 32]);
  assert.deepEqual(byName.get('loss')?.shape, [1]);
  assert.deepEqual(readdirSync(dir), ['o.safetensors']);
});

test('a Hub id resolves through the Hub cache (offline) and --family overrides a missing model_type', () => {
  const cache = join(tmp, 'hub');
  const sha = 'a'.repeat(40);
  const repo = join(cache, 'models--tiny--roberta');
  const snap = join(repo, 'snapshots', sha);
  mkdirSync(snap, { recursive: true });
  mkdirSync(join(repo, 'refs'), { recursive: true });
  writeFileSync(join(repo, 'refs', 'main'), sha);
  copyFileSync(join(MODELS, 'roberta', 'config.json'), join(snap, 'config.json'));
  copyFileSync(join(MODELS, 'roberta', 'model.safetensors'), join(snap, 'model.safetensors'));
  const env = { HF_HUB_OFFLINE: '1', HF_HUB_CACHE: cache };
  const out = join(tmp, 'hub-roberta.safetensors');
  const r = forward('tiny/roberta', join(MODELS, 'roberta'), out, [], env);
  assert.equal(r.status, 0, r.stderr);
  for (const [k, d] of compareToGolden(out, join(MODELS, 'roberta'))) assert.ok(d < 1e-4, `${k}: ${d}`);

  const missing = forward('tiny/absent', join(MODELS, 'roberta'), out, [], env);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /HF_HUB_OFFLINE is set and tiny\/absent@main is not in the cache/);

  // A folder whose config.json has no model_type: refused without --family, computed with it.
  const bare = join(tmp, 'bare');
  mkdirSync(bare);
  const config = JSON.parse(readFileSync(join(MODELS, 'xlm-roberta', 'config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  delete config.model_type;
  writeFileSync(join(bare, 'config.json'), JSON.stringify(config));
  copyFileSync(join(MODELS, 'xlm-roberta', 'model.safetensors'), join(bare, 'model.safetensors'));
  const noType = forward(bare, join(MODELS, 'xlm-roberta'), out);
  assert.equal(noType.status, 2);
  assert.match(noType.stderr, /has no "model_type": name the family with --family/);
  const withFamily = forward(bare, join(MODELS, 'xlm-roberta'), out, ['--family', 'xlm-roberta']);
  assert.equal(withFamily.status, 0, withFamily.stderr);
  for (const [k, d] of compareToGolden(out, join(MODELS, 'xlm-roberta'))) assert.ok(d < 1e-4, `${k}: ${d}`);
});

test('bad usage and bad input exit with 2 and say what is wrong', () => {
  const out = join(tmp, 'bad.safetensors');
  const noOut = runCli([
    'forward',
    '--model',
    join(MODELS, 'bert'),
    '--inputs',
    join(MODELS, 'bert', 'inputs.safetensors'),
  ]);
  assert.equal(noOut.status, 2);
  assert.match(noOut.stderr, /--out is required/);

  const help = runCli(['forward', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: tandem forward --model/);

  const family = forward(join(MODELS, 'bert'), join(MODELS, 'bert'), out, ['--family', 'gpt2']);
  assert.equal(family.status, 2);
  assert.match(family.stderr, /--family: model_type "gpt2" is not supported \(supported: bert, roberta/);

  // BERT inputs carry labels, which RobertaModel has no head for.
  const wrongInputs = forward(join(MODELS, 'roberta'), join(MODELS, 'bert'), out);
  assert.equal(wrongInputs.status, 2);
  assert.match(wrongInputs.stderr, /labels given, but RobertaModel has no head/);

  const noFolder = forward(join(tmp, 'no-such-folder'), join(MODELS, 'bert'), out);
  assert.equal(noFolder.status, 2);
  assert.match(noFolder.stderr, /no-such-folder: no such model folder/);

  // A checkpoint that does not fit its config names the tensors.
  const broken = join(tmp, 'broken');
  mkdirSync(broken);
  const config = JSON.parse(readFileSync(join(MODELS, 'bert', 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(broken, 'config.json'), JSON.stringify({ ...config, num_hidden_layers: 3 }));
  copyFileSync(join(MODELS, 'bert', 'model.safetensors'), join(broken, 'model.safetensors'));
  const mismatch = forward(broken, join(MODELS, 'bert'), out);
  assert.equal(mismatch.status, 2);
  assert.match(mismatch.stderr, /missing from the checkpoint: bert\.encoder\.layer\.2\.attention\.self\.query\.weight/);
  assert.equal(existsSync(out), false, 'nothing is written on failure');
});

test('a tandem run checkpoint: the classifier logits and embeddings, and its ViLT under vilt.* as a plain ViLT folder gives', () => {
  const data = synthData(join(tmp, 'synth'), 24);
  const run = join(tmp, 'vilt-run');
  const train = runCli([
    'train',
    '--model',
    join(MODELS, 'vilt'),
    '--init',
    'random',
    '--max-length',
    '16',
    '--data',
    data,
    '--out',
    run,
    '--steps',
    '2',
    '--epochs',
    '1',
    '--batch-size',
    '8',
    '--no-progress',
  ]);
  assert.equal(train.status, 0, train.stderr);
  const inputs = join(MODELS, 'vilt', 'inputs.safetensors');
  const out = join(tmp, 'run-out.safetensors');
  // the run folder stands for its best checkpoint
  const r = runCli(['forward', '--model', run, '--inputs', inputs, '--out', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as {
    family: string;
    folder: string;
    outputs: { name: string; shape: number[] }[];
  };
  assert.equal(summary.family, 'tandem vilt');
  assert.match(summary.folder, /best$/);
  const shapes = Object.fromEntries(summary.outputs.map((o) => [o.name, o.shape]));
  const B = readSafetensors(inputs).tensors.get('input_ids')!.shape[0]!;
  assert.deepEqual(shapes.logits, [B, 2]);
  assert.deepEqual(shapes['vilt.pooler_output'], [B, 32]);
  for (const n of ['text_embeds', 'image_embeds', 'pair_embeds', 'vilt.last_hidden_state']) assert.ok(shapes[n], n);

  // the same weights as a Hugging Face ViLT folder (the checkpoint's vilt.* tensors, its model_config)
  const best = join(run, 'best');
  const hf = join(tmp, 'vilt-from-run');
  mkdirSync(hf);
  const tandem = JSON.parse(readFileSync(join(best, 'config.json'), 'utf8')).tandem;
  writeFileSync(join(hf, 'config.json'), JSON.stringify(tandem.model_config));
  const weights = readSafetensors(join(best, 'model.safetensors')).tensors;
  writeSafetensors(
    join(hf, 'model.safetensors'),
    new Map([...weights].filter(([k]) => k.startsWith('vilt.')).map(([k, t]) => [k.slice('vilt.'.length), t])),
  );
  const plainOut = join(tmp, 'plain-vilt.safetensors');
  const plain = runCli(['forward', '--model', hf, '--inputs', inputs, '--out', plainOut]);
  assert.equal(plain.status, 0, plain.stderr);
  const a = readSafetensors(out).tensors;
  const b = readSafetensors(plainOut).tensors;
  for (const n of ['last_hidden_state', 'pooler_output'])
    assert.deepEqual(floats(a.get(`vilt.${n}`)!.data), floats(b.get(n)!.data), `vilt.${n}`);

  // the logits are those of the classifier in eval mode (no dropout): predict's probabilities over them
  const again = join(tmp, 'run-out-2.safetensors');
  assert.equal(runCli(['forward', '--model', best, '--inputs', inputs, '--out', again]).status, 0);
  assert.deepEqual(floats(readSafetensors(again).tensors.get('logits')!.data), floats(a.get('logits')!.data));
});

test('a tiny example without weights: a clear error naming --init random, which runs it seeded and says so', () => {
  const tiny = join(REPO_ROOT, 'examples', 'tiny-models', 'vilt');
  const inputs = join(MODELS, 'vilt', 'inputs.safetensors');
  const out = join(tmp, 'tiny.safetensors');
  const refused = runCli(['forward', '--model', tiny, '--inputs', inputs, '--out', out]);
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /has no weights \(no model\.safetensors.*Pass --init random/);
  const run = (seed: string, file: string) => {
    const r = runCli([
      'forward',
      '--model',
      tiny,
      '--inputs',
      inputs,
      '--out',
      file,
      '--init',
      'random',
      '--seed',
      seed,
    ]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`note: --init random: the weights are random \\(seed ${seed}\\)`));
    return readSafetensors(file).tensors;
  };
  const one = run('1', out);
  assert.deepEqual([...one.keys()].sort(), ['last_hidden_state', 'pooler_output']);
  const same = run('1', join(tmp, 'tiny-2.safetensors'));
  const other = run('2', join(tmp, 'tiny-3.safetensors'));
  const pooled = (m: typeof one) => floats(m.get('pooler_output')!.data);
  assert.deepEqual(pooled(same), pooled(one), 'the same seed, the same weights');
  assert.notDeepEqual(pooled(other), pooled(one), 'another seed, other weights');
});
