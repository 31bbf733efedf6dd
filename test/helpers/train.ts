// Helpers of the training tests that run `tandem train` in child processes: synthetic data, a tiny run's
// flags, starting and killing runs, waiting for log lines, comparing checkpoints exactly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN, REPO_ROOT, runCli } from './cli.js';
import { loadSafetensorsFile } from '../../src/io/tensors.js';
import { tidy } from '../../src/tensor/index.js';

export const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'run.js');

/** The tiny golden ViLT with random weights. */
export const TINY_VILT: readonly string[] = ['--model', join(GOLDEN, 'models', 'vilt'), '--init', 'random'];

/** Late fusion over the tiny golden BERT and ViT with random weights (the paper's recipe at test size). */
export const TINY_LATE_FUSION: readonly string[] = [
  '--text-model',
  join(GOLDEN, 'models', 'bert'),
  '--image-model',
  join(GOLDEN, 'models', 'vit'),
  '--init',
  'random',
];

/** Synthetic posts (label: do text and image agree; 32 px, two colours, plain texts) in dir/posts.jsonl. */
export function synthPosts(dir: string, args: string[], seed = 3): string {
  const s = runCli([
    'data',
    'synth',
    '--out',
    dir,
    '--size',
    '32',
    '--colours',
    '2',
    '--style',
    'plain',
    '--seed',
    String(seed),
    ...args,
  ]);
  assert.equal(s.status, 0, s.stderr);
  return join(dir, 'posts.jsonl');
}

export function synthData(dir: string, count: number): string {
  return synthPosts(dir, ['--count', String(count)]);
}

/** Tiny ViLT with random weights, the ITC queue on, ITM sampling from the RNG, a linear warm-up schedule. */
export function trainArgs(data: string): string[] {
  return [
    ...TINY_VILT,
    '--max-length',
    '16',
    '--head',
    'mlp',
    '--no-progress',
    '--data',
    data,
    '--epochs',
    '2',
    '--batch-size',
    '8',
    '--lr',
    '3e-3',
    // a schedule with state (the paper's preset is constant): resume must restore its position
    '--schedule',
    'linear',
    '--warmup-ratio',
    '0.1',
    '--itc-queue',
    '12',
    '--save-every',
    '2',
    '--seed',
    '7',
  ];
}

export function startTrain(args: string[]) {
  const child = spawn(process.execPath, [CLI, 'train', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<number | null>((res) => child.on('exit', (code, signal) => res(signal ? null : code)));
  return { child, done, stderr: () => stderr };
}

export function logSteps(run: string): number {
  const path = join(run, 'log.jsonl');
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).length : 0;
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Max |difference| over every tensor of two files (names must agree). */
export function maxDiff(a: string, b: string): number {
  const ta = loadSafetensorsFile(a).tensors;
  const tb = loadSafetensorsFile(b).tensors;
  assert.deepEqual([...ta.keys()].sort(), [...tb.keys()].sort(), `${a} and ${b} hold different tensors`);
  return tidy(() => Math.max(0, ...[...ta].map(([k, t]) => t.sub(tb.get(k)!).abs().max().item())));
}
