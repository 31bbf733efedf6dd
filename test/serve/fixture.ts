// Runs to serve (ViLT from the golden tiny folder, random init): a few steps on synthetic posts, or trained
// until it predicts every one of its posts right; the posts with their images as bytes; request helpers.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { TINY_VILT } from '../helpers/train.js';

export interface Post {
  id: string;
  text: string;
  bytes: Buffer;
}

/** Trains the run into `dir`; returns the run folder and the synthetic posts. */
export function trainedRun(dir: string, count = 40): { run: string; posts: Post[] } {
  const data = join(dir, 'synth');
  const made = runCli(['data', 'synth', '--out', data, '--count', String(count), '--size', '32', '--style', 'plain']);
  if (made.status !== 0) throw new Error(made.stderr);
  const run = join(dir, 'run');
  const trained = runCli([
    'train',
    ...TINY_VILT,
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
  if (trained.status !== 0) throw new Error(trained.stderr);
  const posts = readFileSync(join(data, 'posts.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: string; text: string; image: string })
    .map((p) => ({ id: p.id, text: p.text, bytes: readFileSync(join(data, p.image)) }));
  return { run, posts };
}

export interface LabelledPost extends Post {
  label: string;
}

/**
 * A run trained until it labels each of its `count` posts right, checked by `tandem evaluate` (the file
 * pipeline, no server): the label is the colour the text names and the image shows (four classes), a task the
 * tiny ViLT learns in a few dozen steps. Throws, with the confusion matrix, when training fell short.
 */
export function learnedRun(dir: string, count = 32): { run: string; posts: LabelledPost[] } {
  const data = join(dir, 'colours');
  const made = runCli([
    'data',
    'synth',
    '--out',
    data,
    '--count',
    String(count),
    '--size',
    '32',
    '--colours',
    '4',
    '--match-rate',
    '1',
    '--style',
    'plain',
    '--seed',
    '5',
  ]);
  if (made.status !== 0) throw new Error(made.stderr);
  const file = join(data, 'posts.jsonl');
  type Row = { id: string; text: string; image: string; extra: { text_colour: string; image_colour: string } };
  const rows = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Row);
  // Relabelled by colour; every post trains, so every post served has been learned.
  writeFileSync(
    file,
    rows.map((r) => JSON.stringify({ ...r, label: r.extra.text_colour, split: 'train' })).join('\n') + '\n',
  );
  const run = join(dir, 'learned');
  const trained = runCli([
    'train',
    ...TINY_VILT,
    '--data',
    file,
    '--out',
    run,
    '--epochs',
    '16',
    '--batch-size',
    '8',
    '--lr',
    '3e-3',
    '--aux',
    'none',
    '--seed',
    '1',
    '--no-progress',
  ]);
  if (trained.status !== 0) throw new Error(trained.stderr);
  const evaluated = runCli(['evaluate', '--run', run, '--data', file, '--json']);
  if (evaluated.status !== 0) throw new Error(evaluated.stderr);
  const m = (JSON.parse(evaluated.stdout) as { metrics: { accuracy: number; confusion_matrix: number[][] } }).metrics;
  if (m.accuracy !== 1)
    throw new Error(`the run learned ${m.accuracy} of its posts: ${JSON.stringify(m.confusion_matrix)}`);
  const posts = rows.map((r) => ({
    id: r.id,
    text: r.text,
    label: r.extra.text_colour,
    bytes: readFileSync(join(data, r.image)),
  }));
  return { run, posts };
}

export type Prediction = { id: string; label: string; probabilities: Record<string, number> };

export function jsonBody(posts: Post[]): string {
  return JSON.stringify({ posts: posts.map((p) => ({ id: p.id, text: p.text, image: p.bytes.toString('base64') })) });
}

export async function predictJson(url: string, posts: Post[]): Promise<Response> {
  return fetch(`${url}/predict`, {
    method: 'POST',
    body: jsonBody(posts),
    headers: { 'content-type': 'application/json' },
  });
}

/** The value of a Prometheus sample, e.g. metric(text, 'tandem_batch_size_count'). */
export function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  if (!line) throw new Error(`no metric ${name}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** The CLI entry, compiled or under tsx, for spawning `tandem serve`. */
export function cliEntry(): string[] {
  return import.meta.url.endsWith('.js')
    ? [join(REPO_ROOT, 'dist', 'src', 'cli', 'run.js')]
    : ['--import', 'tsx', join(REPO_ROOT, 'src', 'cli', 'run.ts')];
}
