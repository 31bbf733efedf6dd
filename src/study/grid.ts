// The runs of a study: one per dataset × model × objective setting × seed, each an ordinary `tandem train`
// run folder under <study>/runs/, in a fixed order so that shards of the grid are the same in every process.
import { join } from 'node:path';
import { auxOf, type FlagValue, type StudySpec } from './spec.js';

export interface StudyRun {
  /** `<dataset>__<model>__<objectives>__seed<seed>`: the run folder's name. */
  id: string;
  dataset: string;
  model: string;
  objectives: string;
  seed: number;
  dir: string;
  /** `tandem train`'s arguments for a fresh run. */
  args: string[];
}

export function runsDir(studyDir: string): string {
  return join(studyDir, 'runs');
}

/** A flag table as command-line arguments (true → `--flag`, false → nothing). */
export function flagArgs(options: Record<string, FlagValue>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(options)) {
    if (v === false) continue;
    out.push(`--${k}`);
    if (v !== true) out.push(String(v));
  }
  return out;
}

/** Every run of the grid, datasets outermost and seeds innermost. */
export function expandGrid(spec: StudySpec, studyDir: string): StudyRun[] {
  const runs: StudyRun[] = [];
  for (const d of spec.datasets)
    for (const m of spec.models)
      for (const o of spec.objectives)
        for (const seed of spec.seeds) {
          const id = `${d.name}__${m.name}__${o}__seed${seed}`;
          const dir = join(runsDir(studyDir), id);
          const aux = auxOf(o);
          // later tables override earlier ones: shared train options, then the dataset's, then the model's
          const options = { ...spec.train, ...d.options, ...m.options };
          runs.push({
            id,
            dataset: d.name,
            model: m.name,
            objectives: o,
            seed,
            dir,
            args: [
              '--data',
              d.data,
              ...(d.format ? ['--format', d.format] : []),
              ...(d.variant ? ['--variant', d.variant] : []),
              ...flagArgs(options),
              '--aux',
              aux.length ? aux.join(',') : 'none',
              '--seed',
              String(seed),
              '--out',
              dir,
            ],
          });
        }
  return runs;
}

/** Parses `I/N` (0 <= I < N). */
export function parseShard(v: string, what = '--shard'): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) throw new Error(`${what} expects I/N with 0 <= I < N (e.g. 0/4), got '${v}'`);
  return { index, count };
}

/**
 * The shard from `--shard` or else a scheduler's array job (SLURM_ARRAY_TASK_ID counted from
 * SLURM_ARRAY_TASK_MIN, default 0, out of SLURM_ARRAY_TASK_COUNT); null runs the whole grid.
 */
export function shardFrom(flag: string | undefined, env: NodeJS.ProcessEnv): { index: number; count: number } | null {
  if (flag !== undefined) return parseShard(flag);
  const id = env.SLURM_ARRAY_TASK_ID;
  const count = env.SLURM_ARRAY_TASK_COUNT;
  if (id === undefined || count === undefined) return null;
  const min = Number(env.SLURM_ARRAY_TASK_MIN ?? 0);
  return parseShard(`${Number(id) - min}/${count}`, 'SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT');
}

/** Runs i with i mod N = I: each run in exactly one shard, shards of even size. */
export function shardOf<T>(runs: T[], shard: { index: number; count: number } | null): T[] {
  return shard ? runs.filter((_, i) => i % shard.count === shard.index) : runs;
}
