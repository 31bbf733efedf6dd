// The runs of a study: one per dataset × model × objective setting × seed, each an ordinary `tandem train`
// run folder under <study>/runs/, in a fixed order so that shards of the grid are the same in every process.
import { join } from 'node:path';
import { auxOf, notApplicable, type FlagValue, type StudySpec } from './spec.js';

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

/** A cell of the grid left out for one seed: the setting does not apply to the model (never trained). */
export interface NotApplicableRun {
  id: string;
  dataset: string;
  model: string;
  objectives: string;
  seed: number;
  /** Why: e.g. `one modality: recipe text-only reads only the text of each post, and ce+itc pairs ...`. */
  reason: string;
}

/** Every dataset × model × setting × seed, datasets outermost and seeds innermost: a run, or why there is none. */
function cells(spec: StudySpec, studyDir: string): (StudyRun | NotApplicableRun)[] {
  const out: (StudyRun | NotApplicableRun)[] = [];
  for (const d of spec.datasets)
    for (const m of spec.models)
      for (const o of spec.objectives) {
        const reason = notApplicable(m, o);
        for (const seed of spec.seeds) {
          const id = `${d.name}__${m.name}__${o}__seed${seed}`;
          if (reason !== null) {
            out.push({ id, dataset: d.name, model: m.name, objectives: o, seed, reason });
            continue;
          }
          const dir = join(runsDir(studyDir), id);
          const aux = auxOf(o);
          // later tables override earlier ones: shared train options, then the dataset's, then the model's
          const options = { ...spec.train, ...d.options, ...m.options };
          out.push({
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
      }
  return out;
}

/**
 * Every run of the grid, in the order above. A setting that does not apply to a model (ITC or ITM for a
 * one-modality baseline) has no run: see notApplicableRuns.
 */
export function expandGrid(spec: StudySpec, studyDir: string): StudyRun[] {
  return cells(spec, studyDir).filter((c): c is StudyRun => !('reason' in c));
}

/** The cells of the grid left out because their setting does not apply to the model, one per seed. */
export function notApplicableRuns(spec: StudySpec, studyDir = ''): NotApplicableRun[] {
  return cells(spec, studyDir).filter((c): c is NotApplicableRun => 'reason' in c);
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
