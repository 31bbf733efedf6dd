// `tandem train` with no optimisation options trains as the paper's code does (constant learning rate, no
// warm-up, no clipping, weight decay on every parameter, no early stopping) and records it in run.json;
// `--preset tandem` gives tandem's choices; the checkpoint's optimiser groups and the step log show that the
// run did what run.json says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { readRunConfig } from '../../src/train/experiment.js';

const tmp = mkdtempSync(join(tmpdir(), 'tandem-presets-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const synth = runCli([
  'data',
  'synth',
  '--out',
  join(tmp, 'data'),
  '--count',
  '48',
  '--size',
  '32',
  '--style',
  'plain',
]);
assert.equal(synth.status, 0, synth.stderr);
const BASE = [
  'train',
  '--model',
  join(REPO_ROOT, 'examples', 'tiny-models', 'vilt'),
  '--init',
  'random',
  '--max-length',
  '16',
  '--data',
  join(tmp, 'data', 'posts.jsonl'),
  '--epochs',
  '1',
  '--steps',
  '3',
  '--batch-size',
  '8',
  '--no-progress',
];

interface Group {
  weightDecay: number;
  names: string[];
}
function trained(name: string, extra: string[]) {
  const out = join(tmp, name);
  const r = runCli([...BASE, '--out', out, ...extra]);
  assert.equal(r.status, 0, r.stderr);
  const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  const state = JSON.parse(readFileSync(join(out, 'last', 'trainer_state.json'), 'utf8'));
  const log = readFileSync(join(out, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { step: number; lr: number; grad_norm?: number });
  return { run, groups: state.optimizer.groups as Group[], log };
}
const isExempt = (n: string) => n.endsWith('bias') || /layernorm|LayerNorm|norm\./.test(n);

test('no optimisation options: the paper preset, recorded in run.json and followed by the run', () => {
  const { run, groups, log } = trained('paper', []);
  assert.equal(run.preset, 'paper');
  assert.equal(run.schedule, 'constant');
  assert.equal(run.warmupRatio, 0);
  assert.equal(run.maxGradNorm, null);
  assert.equal(run.decayExempt, 'none');
  assert.equal(run.patience, 0);
  assert.equal(run.lr, 1e-5);
  assert.equal(run.weightDecay, 2.5e-4);
  // One group: every parameter, biases and LayerNorm included, decays.
  assert.equal(groups.length, 1);
  assert.equal(groups[0]!.weightDecay, 2.5e-4);
  assert.ok(groups[0]!.names.some((n) => n.endsWith('bias')) && groups[0]!.names.some(isExempt));
  // A constant learning rate from the first step, and no clipping (no gradient norm is computed).
  assert.deepEqual(
    log.map((x) => x.lr),
    [1e-5, 1e-5, 1e-5],
  );
  assert.ok(log.every((x) => x.grad_norm === undefined));
});

test('--preset tandem: warm-up and linear decay, clipping at 1.0, no decay on biases and LayerNorm, patience 3', () => {
  const { run, groups, log } = trained('tandem', ['--preset', 'tandem']);
  assert.equal(run.preset, 'tandem');
  assert.equal(run.schedule, 'linear');
  assert.equal(run.warmupRatio, 0.1);
  assert.equal(run.maxGradNorm, 1);
  assert.equal(run.decayExempt, 'bias-norm');
  assert.equal(run.patience, 3);
  assert.equal(groups.length, 2);
  assert.equal(groups[0]!.weightDecay, 2.5e-4);
  assert.equal(groups[1]!.weightDecay, 0);
  assert.ok(groups[1]!.names.length > 0 && groups[1]!.names.every(isExempt), groups[1]!.names.join(' '));
  assert.ok(!groups[0]!.names.some((n) => n.endsWith('bias')));
  // 3 steps, warm-up round(0.3) = 0 steps: linear decay 1, 2/3, 1/3 of the base lr; clipping reports norms.
  const lrs = log.map((x) => x.lr);
  [1e-5, (2 / 3) * 1e-5, (1 / 3) * 1e-5].forEach((want, i) => assert.ok(Math.abs(lrs[i]! - want) < 1e-12, `${lrs}`));
  assert.ok(log.every((x) => typeof x.grad_norm === 'number'));
});

test('flags override the preset and run.json records the resolved values', () => {
  const { run, groups, log } = trained('mixed', [
    '--preset',
    'tandem',
    '--max-grad-norm',
    '0',
    '--decay-exempt',
    'none',
    '--schedule',
    'constant',
  ]);
  assert.equal(run.preset, 'tandem');
  assert.equal(run.maxGradNorm, null);
  assert.equal(run.decayExempt, 'none');
  assert.equal(run.schedule, 'constant');
  assert.equal(run.warmupRatio, 0.1);
  assert.equal(run.patience, 3);
  assert.equal(groups.length, 1);
  assert.ok(log.every((x) => x.grad_norm === undefined));
});

test('a run.json from before presets reads back with the decay exemptions it trained with', () => {
  const run = JSON.parse(readFileSync(join(tmp, 'tandem', 'run.json'), 'utf8'));
  delete run.preset;
  delete run.decayExempt;
  const old = join(tmp, 'before-presets');
  mkdirSync(old);
  writeFileSync(join(old, 'run.json'), JSON.stringify(run));
  const cfg = readRunConfig(old);
  assert.equal(cfg.decayExempt, 'bias-norm');
  assert.equal(cfg.preset, undefined);
  assert.equal(readRunConfig(join(tmp, 'paper')).decayExempt, 'none');
});
