// `tandem data inspect` and `tandem data convert`: read a social-media benchmark in its published layout, report
// on it, or write it in tandem's generic format.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError, EXIT, intFlag, parse } from '../args.js';
import { FORMAT_NAMES, FORMATS, loadDataset } from '../../data/formats/index.js';
import { DEFAULT_GENERIC_NAME, writeGeneric } from '../../data/generic.js';
import { formatReport, inspectDataset } from '../../data/inspect.js';
import { DataError, type LoadOptions, type LoadResult, type MissingImagePolicy } from '../../data/rows.js';
import { count } from '../../data/rows.js';
import { resolveEncodingName } from '../../data/text-decode.js';

const COMMON = `  --format <name>             one of: ${FORMAT_NAMES.join(', ')}
  --variant <v>               a dataset's task/variant (see \`tandem data formats\`)
  --on-missing-image drop|keep  drop posts whose image is missing (default) or keep them text-only
  --split-seed <n>            seed of the stratified split for datasets without an official one (default 42)
  --split-ratios <a:b:c>      train:dev:test ratios of that split (default 8:1:1)
  --split-file <path>         where that split is saved (default: tandem-split-<format>-seed<n>.json in the dataset folder)
  --text-encoding <enc>       decode the text files with this encoding (default: UTF-8, else detected per file)
  --json                      print one JSON object`;

const HELP = `Usage: tandem data <inspect|convert|formats|synth> [options]

  tandem data inspect --format <name> <dir> [--json]
      posts per split and label, missing/unreadable images, duplicate texts and images across splits,
      text lengths, dropped posts by reason
  tandem data convert --format <name> <dir> --out posts.jsonl
      write the generic format (JSONL, or CSV when --out ends in .csv); image paths relative to the output,
      which must lie in the dataset folder or a folder above it
  tandem data formats
      list the formats and their variants
  tandem data synth --out <dir> [--count 400] [--seed 0] [--size 64] [--colours 2|3|4]
                    [--style social|plain] [--match-rate 0.5]
      generate a synthetic dataset (coloured shapes with texts that name a colour and a shape; the label
      says whether text and image agree) in the generic format, for trying tandem offline

Options:
${COMMON}
  --out <file>                (convert) the output file`;

const OPTIONS = {
  format: { type: 'string' },
  variant: { type: 'string' },
  'on-missing-image': { type: 'string' },
  'split-seed': { type: 'string' },
  'split-ratios': { type: 'string' },
  'split-file': { type: 'string' },
  'text-encoding': { type: 'string' },
  out: { type: 'string' },
  json: { type: 'boolean' },
  count: { type: 'string' },
  seed: { type: 'string' },
  size: { type: 'string' },
  colours: { type: 'string' },
  style: { type: 'string' },
  'match-rate': { type: 'string' },
} as const;

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

function ratiosFlag(v: string | undefined): [number, number, number] | undefined {
  if (v === undefined) return undefined;
  const parts = v.split(/[:,]/).map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p < 0) || parts[0]! + parts[1]! + parts[2]! <= 0) {
    throw new CliError(`--split-ratios expects three non-negative numbers like 8:1:1, got '${v}'`);
  }
  const sum = parts[0]! + parts[1]! + parts[2]!;
  return parts.map((p) => p / sum) as [number, number, number];
}

/** --text-encoding, checked before any file is read. */
export function encodingFlag(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  try {
    return resolveEncodingName(v);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
}

function loadFromArgs(values: Values, positionals: string[], forInspect: boolean): LoadResult {
  const format = values.format;
  if (!format) throw new CliError(`--format is required (one of ${FORMAT_NAMES.join(', ')})\n\n${HELP}`);
  const info = FORMATS[format];
  if (!info) throw new CliError(`unknown --format '${format}' (expected one of ${FORMAT_NAMES.join(', ')})`);
  if (positionals.length !== 1) throw new CliError(`expected one dataset folder, got ${positionals.length}\n\n${HELP}`);
  const dir = resolve(positionals[0]!);
  if (!existsSync(dir)) throw new CliError(`${dir}: not found (expected the ${format} dataset folder)`);
  const policy = values['on-missing-image'] ?? 'drop';
  if (policy !== 'drop' && policy !== 'keep')
    throw new CliError(`--on-missing-image expects drop or keep, got '${policy}'`);
  if (values.variant !== undefined && !info.variants?.includes(values.variant)) {
    throw new CliError(
      `--variant '${values.variant}' is not one of ${format}'s: ${info.variants?.join(', ') ?? '(none)'}`,
    );
  }
  const opts: LoadOptions = {
    onMissingImage: policy as MissingImagePolicy,
    splitSeed: intFlag('split-seed', values['split-seed']),
    splitRatios: ratiosFlag(values['split-ratios']),
    splitFile: values['split-file'] ? resolve(values['split-file']) : undefined,
    noSaveSplit: forInspect,
    variant: values.variant,
    textEncoding: encodingFlag(values['text-encoding']),
  };
  try {
    return loadDataset(format, dir, opts);
  } catch (e) {
    if (e instanceof DataError) throw new CliError(e.message, EXIT.usage);
    throw e;
  }
}

function progress(): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (done, total) => {
    process.stderr.write(`\rchecking images ${done}/${total}${done === total ? '\n' : ''}`);
  };
}

async function inspect(values: Values, positionals: string[]): Promise<number> {
  const result = loadFromArgs(values, positionals, true);
  const report = inspectDataset(result, result.rows.length > 2000 ? progress() : undefined);
  console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return EXIT.ok;
}

async function convert(values: Values, positionals: string[]): Promise<number> {
  if (!values.out) throw new CliError(`--out is required for convert\n\n${HELP}`);
  let out = resolve(values.out);
  if (existsSync(out) && statSync(out).isDirectory()) out = join(out, DEFAULT_GENERIC_NAME);
  const result = loadFromArgs(values, positionals, false);
  try {
    writeGeneric(result.rows, out);
  } catch (e) {
    if (e instanceof DataError) throw new CliError(e.message, EXIT.usage);
    throw e;
  }
  const splits: Record<string, number> = {};
  const labels: Record<string, number> = {};
  for (const r of result.rows) {
    count(splits, r.split ?? '');
    if (r.label !== undefined) count(labels, r.label);
  }
  const summary = {
    out,
    format: result.format,
    total: result.rows.length,
    splits,
    labels,
    dropped: result.dropped,
    kept_without_image: result.keptWithoutImage,
    split: result.split,
    notes: result.notes,
  };
  if (values.json) console.log(JSON.stringify(summary, null, 2));
  else {
    const dropped = Object.entries(result.dropped)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    console.log(
      `wrote ${summary.total} posts to ${out} (${Object.entries(splits)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}); dropped: ${dropped || 'none'}`,
    );
    for (const n of result.notes) console.log(`note: ${n}`);
  }
  return EXIT.ok;
}

async function synth(values: Values): Promise<number> {
  if (!values.out) throw new CliError(`--out is required for synth\n\n${HELP}`);
  const n = intFlag('count', values.count, 400)!;
  if (n < 1) throw new CliError(`--count must be positive, got ${n}`);
  const out = resolve(values.out);
  const style = values.style ?? 'social';
  if (style !== 'social' && style !== 'plain') throw new CliError(`--style expects social or plain, got '${style}'`);
  const matchRate = values['match-rate'] === undefined ? 0.5 : Number(values['match-rate']);
  if (!(matchRate >= 0 && matchRate <= 1))
    throw new CliError(`--match-rate expects a number in [0, 1], got '${values['match-rate']}'`);
  const { writeSyntheticDataset } = await import('../../data/synthetic.js');
  const rows = await writeSyntheticDataset(out, {
    count: n,
    seed: intFlag('seed', values.seed, 0),
    size: intFlag('size', values.size, 64),
    colours: intFlag('colours', values.colours, 4),
    style,
    matchRate,
  });
  const splits: Record<string, number> = {};
  for (const r of rows) count(splits, r.split ?? '');
  const summary = { out: join(out, DEFAULT_GENERIC_NAME), total: rows.length, splits };
  console.log(
    values.json
      ? JSON.stringify(summary, null, 2)
      : `wrote ${rows.length} posts to ${summary.out} (${Object.entries(splits)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`,
  );
  return EXIT.ok;
}

function listFormats(json: boolean): number {
  if (json) {
    console.log(
      JSON.stringify(
        Object.fromEntries(
          Object.entries(FORMATS).map(([k, v]) => [k, { description: v.description, variants: v.variants ?? [] }]),
        ),
        null,
        2,
      ),
    );
    return EXIT.ok;
  }
  const w = Math.max(...FORMAT_NAMES.map((n) => n.length));
  for (const [k, v] of Object.entries(FORMATS)) {
    console.log(
      `  ${k.padEnd(w)}  ${v.description}${v.variants ? ` [variants: ${v.variants.join(', ')}; default ${v.variants[0]}]` : ''}`,
    );
  }
  return EXIT.ok;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(HELP);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  const a = parse(rest, OPTIONS, HELP);
  if (!a) return EXIT.ok;
  const values = a.values as Values;
  switch (sub) {
    case 'inspect':
      return inspect(values, a.positionals);
    case 'convert':
      return convert(values, a.positionals);
    case 'formats':
      return listFormats(values.json ?? false);
    case 'synth':
      return synth(values);
    default:
      throw new CliError(`unknown subcommand '${sub}' (expected inspect, convert, formats or synth)\n\n${HELP}`);
  }
}
