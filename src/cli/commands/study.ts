// `tandem study run | status | report`: a grid of training runs from one specification, and the comparison
// table, analysis and HTML report over their predictions.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError, EXIT, intFlag, parse } from '../args.js';
import { readSpec, SpecError } from '../../study/spec.js';
import { shardFrom } from '../../study/grid.js';
import { failureOf, loadStudy, runState, runStudy, type RunState } from '../../study/runner.js';

const HELP = `Usage: tandem study run SPEC.yaml --out DIR [--jobs N] [--shard I/N]
       tandem study status DIR [--json]
       tandem study report DIR [--format markdown|csv|latex] [--json] [--html report.html] [--seed N]

  run      expands the specification (datasets × models × objective settings × seeds) into runs, each an
           ordinary \`tandem train\` run folder under DIR/runs/; finished runs are skipped, interrupted ones
           resumed, runs another live process trains (a lock per run) left to it
             --jobs N      N runs at once on this machine, the threads divided between them (default 1)
             --shard I/N   only runs i with i mod N = I (0 <= I < N); without it SLURM_ARRAY_TASK_ID /
                           SLURM_ARRAY_TASK_COUNT (from SLURM_ARRAY_TASK_MIN) choose the shard
  status   lists done / running / failed / interrupted / pending runs
  report   the table (rows dataset × model, columns objective settings: mean ± sd over seeds, difference
           with CE, paired test against CE on the same posts with Holm's correction) and the slice analysis
             --format F    markdown (default), csv or latex
             --json        one JSON object (cells, slices, test)
             --html FILE   a self-contained HTML report with charts
             --seed N      seed of the resampling tests (default 0)

Specification (YAML or JSON):
  datasets:   [{ name, data, format?, variant?, options? }]
  models:     [{ name, options: { <train flag without dashes>: value } }]
  objectives: [ce, ce+itc, ce+itm, ce+itc+itm]     (default: all four)
  seeds:      [1, 2, 3]                             (default)
  train:      { epochs: 5, lr: 1e-5, batch-size: 16 }  (train flags shared by every run)
  report:     { split: test, metrics: [f1_weighted, f1_macro], test: bootstrap|randomization, resamples: 1000 }`;

const OPTIONS = {
  out: { type: 'string' },
  jobs: { type: 'string' },
  shard: { type: 'string' },
  json: { type: 'boolean' },
  format: { type: 'string' },
  html: { type: 'string' },
  seed: { type: 'string' },
} as const;

function onlyFlags(values: Record<string, unknown>, allowed: string[], sub: string): void {
  for (const [k, v] of Object.entries(values))
    if (v !== undefined && !allowed.includes(k)) throw new CliError(`--${k} does not apply to \`study ${sub}\``);
}

export async function run(argv: string[]): Promise<number> {
  const a = parse(argv, OPTIONS, HELP);
  if (!a) return EXIT.ok;
  const [sub, ...pos] = a.positionals;
  const v = a.values;
  if (sub === 'run') {
    onlyFlags(v, ['out', 'jobs', 'shard'], sub);
    if (pos.length !== 1) throw new CliError(`study run expects one specification file\n\n${HELP}`);
    if (!v.out) throw new CliError('study run: --out DIR (the study folder) is required');
    const jobs = intFlag('jobs', v.jobs, 1)!;
    if (jobs < 1) throw new CliError(`--jobs must be at least 1, got ${jobs}`);
    let spec;
    let shard;
    try {
      spec = readSpec(pos[0]!);
      shard = shardFrom(v.shard, process.env);
    } catch (e) {
      if (e instanceof SpecError || !(e instanceof CliError)) throw new CliError((e as Error).message);
      throw e;
    }
    const out = resolve(v.out);
    const s = await runStudy(spec, out, {
      jobs,
      shard,
      log: (m) => process.stderr.write(`study: ${m}\n`),
    });
    console.log(
      `trained ${s.trained.length}, already done ${s.skipped.length}, left to another process ${s.busy.length}, failed ${s.failed.length}${shard ? ` (shard ${shard.index}/${shard.count})` : ''}`,
    );
    if (s.interrupted) return EXIT.interrupted;
    return s.failed.length ? EXIT.failure : EXIT.ok;
  }
  if (sub === 'status') {
    onlyFlags(v, ['json'], sub);
    if (pos.length !== 1) throw new CliError(`study status expects the study folder\n\n${HELP}`);
    const dir = resolve(pos[0]!);
    if (!existsSync(dir)) throw new CliError(`${dir}: no such study folder`);
    const { runs } = loadStudy(dir);
    const rows = runs.map((r) => ({ id: r.id, state: runState(r) }));
    const counts: Record<RunState, number> = { done: 0, running: 0, failed: 0, interrupted: 0, pending: 0 };
    for (const r of rows) counts[r.state]++;
    if (v.json) {
      console.log(JSON.stringify({ counts, runs: rows }, null, 2));
      return EXIT.ok;
    }
    const width = Math.max(...rows.map((r) => r.id.length));
    for (const r of rows) {
      const f = r.state === 'failed' ? failureOf(runs.find((x) => x.id === r.id)!) : null;
      const why = f ? `  (exit ${f.code ?? f.signal}: ${f.tail.trim().split('\n').pop() ?? ''})` : '';
      console.log(`${r.id.padEnd(width)}  ${r.state}${why}`);
    }
    console.log(
      `\n${runs.length} runs: ${Object.entries(counts)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')}`,
    );
    return EXIT.ok;
  }
  if (sub === 'report') {
    onlyFlags(v, ['json', 'format', 'html', 'seed'], sub);
    if (pos.length !== 1) throw new CliError(`study report expects the study folder\n\n${HELP}`);
    const dir = resolve(pos[0]!);
    if (!existsSync(dir)) throw new CliError(`${dir}: no such study folder`);
    const format = v.format ?? 'markdown';
    if (!['markdown', 'csv', 'latex'].includes(format))
      throw new CliError(`--format expects markdown, csv or latex, got '${format}'`);
    const { buildReport, formatReport } = await import('../../study/report.js');
    const report = buildReport(dir, { seed: intFlag('seed', v.seed, 0)! });
    if (v.html) {
      const { writeHtmlReport } = await import('../../study/html.js');
      await writeHtmlReport(resolve(v.html), report, dir);
      process.stderr.write(`study: wrote ${resolve(v.html)}\n`);
    }
    if (v.json) console.log(JSON.stringify(report, null, 2));
    else console.log(formatReport(report, format as 'markdown' | 'csv' | 'latex'));
    return EXIT.ok;
  }
  throw new CliError(
    sub === undefined ? `expected run, status or report\n\n${HELP}` : `unknown study command '${sub}'\n\n${HELP}`,
  );
}
