// The layout of a run folder as the trainer writes it and inference reads it, and the few saved settings
// that prediction needs (how text was tokenised, whether image-less posts got a blank image).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Precision } from '../tensor/index.js';

/** Paths inside a run folder. */
export function runPaths(out: string) {
  return {
    checkpoints: join(out, 'checkpoints'),
    last: join(out, 'last'),
    best: join(out, 'best'),
    log: join(out, 'log.jsonl'),
    results: join(out, 'results.json'),
    settings: join(out, 'run.json'),
    blankImage: join(out, 'blank-image.png'),
  };
}

/** The part of a run's run.json that inference reads (the trainer's ExperimentConfig has it all). */
export interface RunSettings {
  maxLength?: number;
  tweetNormalize?: boolean;
  missingImage?: 'bad-row' | 'blank';
  precision?: Precision;
  [key: string]: unknown;
}

/** Reads a run's saved settings (run.json). */
export function readRunSettings(out: string): RunSettings {
  const path = runPaths(out).settings;
  if (!existsSync(path)) throw new Error(`${out}: not a tandem run folder (no run.json)`);
  return JSON.parse(readFileSync(path, 'utf8')) as RunSettings;
}
