// `tandem study run | status | report`: a grid of training runs from one specification, and the comparison
// table, analysis and HTML report over their predictions.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CliError, EXIT } from '../args.js';
import { defineCommand, parseCommand } from '../options.js';
import { didYouMean } from '../suggest.js';
import { readSpec, SpecError } from '../../study/spec.js';
import { notApplicableRuns, shardFrom } from '../../study/grid.js';
import { failureOf, loadStudy, runState, runStudy, type RunState } from '../../study/runner.js';

const SPEC_HELP = `Specification (YAML or JSON):
  datasets:   [{ name, data, format?, variant?, options? }]
  models:     [{ name, options: { <train flag without dashes>: value } }]
  objectives: [ce, ce+itc, ce+itm, ce+itc+itm]     (default: all four; text-only and image-only models run ce only)
  seeds:      [1, 2, 3]                             (default)
  train:      { epochs: 5, lr: 1e-5, batch-size: 16 }  (train flags shared by every run)
  report:     { split: test, metrics: [f1_weighted, f1_macro], test: bootstrap|randomization, resamples: 1000 }`;

export const STUDY_RUN = defineCommand({
  name: 'study run',
  usage: ['tandem study run SPEC.yaml --out DIR [--jobs N] [--shard I/N]'],
  description: `Expands the specification (datasets × models × objective settings × seeds) into runs, each an ordinary
\`tandem train\` run folder under DIR/runs/; finished runs are skipped, interrupted ones resumed, runs another
live process trains (a lock per run) left to it.`,
  options: {
    out: { type: 'string', required: true, placeholder: 'DIR', help: 'the study folder' },
    jobs: { type: 'int', default: 1, min: 1, help: 'runs at once on this machine, the threads divided between them' },
    shard: {
      type: 'string',
      placeholder: 'I/N',
      help: 'only runs i with i mod N = I (0 <= I < N); without it SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT (from SLURM_ARRAY_TASK_MIN) choose the shard',
    },
  },
  positionals: { name: 'SPEC', min: 1, max: 1 },
  footer: SPEC_HELP,
});

export const STUDY_STATUS = defineCommand({
  name: 'study status',
  usage: ['tandem study status DIR [--json]'],
  description: 'Lists done / running / failed / interrupted / pending runs of a study.',
  options: { json: { type: 'boolean', help: 'print one JSON object' } },
  positionals: { name: 'DIR', min: 1, max: 1 },
});

export const STUDY_REPORT = defineCommand({
  name: 'study report',
  usage: ['tandem study report DIR [--format markdown|csv|latex] [--json] [--html report.html] [--seed N]'],
  description: `The table (rows dataset × model, columns objective settings: mean ± sd over seeds, difference with CE,
paired test against CE on the same posts with Holm's correction) and the slice analysis.`,
  options: {
    format: { type: 'enum', choices: ['markdown', 'csv', 'latex'], default: 'markdown', help: 'the table format' },
    json: { type: 'boolean', help: 'one JSON object (cells, slices, test)' },
    html: { type: 'string', placeholder: 'FILE', help: 'also write a self-contained HTML report with charts' },
    seed: { type: 'int', default: 0, help: 'seed of the resampling tests' },
  },
  positionals: { name: 'DIR', min: 1, max: 1 },
});

export const specs = [STUDY_RUN, STUDY_STATUS, STUDY_REPORT];

const OVERVIEW = `Usage: tandem study <run|status|report> [options]

  tandem study run SPEC.yaml --out DIR [--jobs N] [--shard I/N]   train the grid of runs (resumable)
  tandem study status DIR [--json]                                 where each run stands
  tandem study report DIR [--json] [--html report.html]            the comparison table and analysis

Run \`tandem study <subcommand> --help\` for the options of each.`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(OVERVIEW);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  if (sub === 'run') {
    const a = parseCommand(STUDY_RUN, rest);
    if (!a) return EXIT.ok;
    const v = a.values;
    let spec;
    let shard;
    try {
      spec = readSpec(a.positionals[0]!);
      shard = shardFrom(v.shard, process.env);
    } catch (e) {
      if (e instanceof SpecError || !(e instanceof CliError)) throw new CliError((e as Error).message);
      throw e;
    }
    const out = resolve(v.out);
    const skipped = notApplicableRuns(spec).length;
    const s = await runStudy(spec, out, {
      jobs: v.jobs,
      shard,
      log: (m) => process.stderr.write(`study: ${m}\n`),
    });
    console.log(
      `trained ${s.trained.length}, already done ${s.skipped.length}, left to another process ${s.busy.length}, failed ${s.failed.length}${shard ? ` (shard ${shard.index}/${shard.count})` : ''}${skipped ? `; ${skipped} not applicable (one-modality models: no ITC/ITM runs)` : ''}`,
    );
    if (s.interrupted) return EXIT.interrupted;
    return s.failed.length ? EXIT.failure : EXIT.ok;
  }
  if (sub === 'status') {
    const a = parseCommand(STUDY_STATUS, rest);
    if (!a) return EXIT.ok;
    const dir = resolve(a.positionals[0]!);
    if (!existsSync(dir)) throw new CliError(`${dir}: no such study folder`);
    const { runs, notApplicable } = loadStudy(dir);
    const rows = runs.map((r) => ({ id: r.id, state: runState(r) as RunState | 'not applicable', reason: '' }));
    const counts: Record<RunState | 'not applicable', number> = {
      done: 0,
      running: 0,
      failed: 0,
      interrupted: 0,
      pending: 0,
      'not applicable': 0,
    };
    for (const r of rows) counts[r.state]++;
    // cells left out of the grid (ITC/ITM for a one-modality model): listed and counted, never pending
    const na = notApplicable.map((c) => ({ id: c.id, state: 'not applicable' as const, reason: c.reason }));
    counts['not applicable'] = na.length;
    if (a.values.json) {
      console.log(
        JSON.stringify({ counts, runs: rows.map(({ id, state }) => ({ id, state })), not_applicable: na }, null, 2),
      );
      return EXIT.ok;
    }
    const width = Math.max(...[...rows, ...na].map((r) => r.id.length));
    for (const r of rows) {
      const f = r.state === 'failed' ? failureOf(runs.find((x) => x.id === r.id)!) : null;
      // the error line (the command's own), not the hint that may follow it
      const lines = f ? f.tail.trim().split('\n') : [];
      const line = [...lines].reverse().find((l) => l.startsWith('tandem ')) ?? lines.at(-1) ?? '';
      const why = f ? `  (exit ${f.code ?? f.signal}: ${line})` : '';
      console.log(`${r.id.padEnd(width)}  ${r.state}${why}`);
    }
    for (const r of na) console.log(`${r.id.padEnd(width)}  not applicable (${r.reason})`);
    const { 'not applicable': skipped, ...states } = counts;
    console.log(
      `\n${runs.length} runs: ${Object.entries(states)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')}${skipped ? `; ${skipped} not applicable (left out of the grid)` : ''}`,
    );
    return EXIT.ok;
  }
  if (sub === 'report') {
    const a = parseCommand(STUDY_REPORT, rest);
    if (!a) return EXIT.ok;
    const v = a.values;
    const dir = resolve(a.positionals[0]!);
    if (!existsSync(dir)) throw new CliError(`${dir}: no such study folder`);
    const { buildReport, formatReport } = await import('../../study/report.js');
    const report = buildReport(dir, { seed: v.seed });
    if (v.html) {
      const { writeHtmlReport } = await import('../../study/html.js');
      await writeHtmlReport(resolve(v.html), report, dir);
      process.stderr.write(`study: wrote ${resolve(v.html)}\n`);
    }
    if (v.json) console.log(JSON.stringify(report, null, 2));
    else console.log(formatReport(report, v.format));
    return EXIT.ok;
  }
  throw new CliError(
    `unknown study command '${sub}'${didYouMean(sub, ['run', 'status', 'report'])} (expected run, status or report)\n\n${OVERVIEW}`,
  );
}
