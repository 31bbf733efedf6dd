// A small trained run to serve (ViLT from the golden tiny folder, random init, a few steps on synthetic
// posts), the posts with their images as bytes, and request helpers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOLDEN, REPO_ROOT, runCli } from '../helpers/cli.js';

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
    '--model',
    join(GOLDEN, 'models', 'vilt'),
    '--init',
    'random',
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
