// `tandem data inspect|convert|formats|synth`: read a social-media benchmark in its published layout, report on
// it, or write it in tandem's generic format; list the formats; generate a synthetic dataset.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CliError, EXIT } from '../args.js';
import { onBadRowOption, printDropped, printLeftOut } from '../data-flags.js';
import { groupsOf } from '../../data/left-out.js';
import { defineCommand, parseCommand, type OptionTable, type Values as ParsedValues } from '../options.js';
import { didYouMean } from '../suggest.js';
import { refuseFilledFolder } from '../out-folder.js';
import { replaceFolder } from '../../io/output-folder.js';
import { DEFAULT_RATIOS, DEFAULT_SEED } from '../../data/splits.js';
import { SYNTH_DEFAULTS, writeSyntheticDataset } from '../../data/synthetic.js';
import { FORMAT_NAMES, FORMATS, loadDataset } from '../../data/formats/index.js';
import { DEFAULT_GENERIC_NAME, writeGeneric } from '../../data/generic.js';
import { formatReport, inspectDataset } from '../../data/inspect.js';
import { DataError, type LoadOptions, type LoadResult, type MissingImagePolicy } from '../../data/rows.js';
import { count } from '../../data/rows.js';
import { resolveEncodingName } from '../../data/text-decode.js';
import { CountProgress } from '../../runtime/progress.js';

/** The options inspect and convert share: which dataset, and how to split it when it has no official split. */
const LOAD_OPTIONS = {
  format: { type: 'enum', choices: FORMAT_NAMES, required: true, help: 'the dataset layout' },
  variant: { type: 'string', placeholder: 'V', help: "a dataset's task/variant (see `tandem data formats`)" },
  'on-bad-row': onBadRowOption(
    'skip',
    'a post whose image file is missing (with --missing-image bad-row) or a line of a generic file that is not a post',
  ),
  'missing-image': {
    type: 'enum',
    choices: ['bad-row', 'keep'],
    default: 'bad-row',
    help: 'posts whose image file is missing: bad rows (see --on-bad-row), or kept text-only (image null, extra.image_missing)',
  },
  'on-missing-image': {
    type: 'enum',
    choices: ['drop', 'keep'],
    help: 'deprecated: drop is --missing-image bad-row --on-bad-row skip, keep is --missing-image keep',
  },
  'split-seed': {
    type: 'int',
    default: DEFAULT_SEED,
    help: 'seed of the stratified split for datasets without an official one',
  },
  'split-ratios': {
    type: 'string',
    placeholder: 'A:B:C',
    help: 'train:dev:test ratios of that split',
    defaultText: DEFAULT_RATIOS.map((r) => r * 10).join(':'),
    check: (v) => (parseRatios(v) ? undefined : 'expected three non-negative numbers like 8:1:1'),
  },
  'split-file': {
    type: 'string',
    placeholder: 'PATH',
    help: 'where that split is saved',
    defaultText: 'tandem-split-<format>-seed<n>.json in the dataset folder',
  },
  'text-encoding': {
    type: 'string',
    placeholder: 'ENC',
    help: 'decode the text files with this encoding',
    defaultText: 'UTF-8, else detected per file',
  },
  json: { type: 'boolean', help: 'print one JSON object' },
  'no-progress': { type: 'boolean', help: 'no progress bar (it is drawn on stderr only when that is a terminal)' },
} as const satisfies OptionTable;

const DATASET = { name: 'dataset folder', min: 1, max: 1 };

export const INSPECT = defineCommand({
  name: 'data inspect',
  usage: ['tandem data inspect --format <name> <dir> [--json]'],
  description: `Reports on a dataset in its published layout: posts per split and label, missing/unreadable images,
duplicate texts and images across splits, text lengths, dropped posts by reason.`,
  options: LOAD_OPTIONS,
  positionals: DATASET,
});

export const CONVERT = defineCommand({
  name: 'data convert',
  usage: ['tandem data convert --format <name> <dir> --out posts.jsonl'],
  description: `Writes a dataset in tandem's generic format (JSONL, or CSV when --out ends in .csv); image paths are
relative to the output, which must lie in the dataset folder or a folder above it.`,
  options: {
    ...LOAD_OPTIONS,
    out: {
      type: 'string',
      required: true,
      placeholder: 'FILE',
      help: `the output file (a folder gets ${DEFAULT_GENERIC_NAME})`,
    },
  },
  positionals: DATASET,
});

export const FORMATS_COMMAND = defineCommand({
  name: 'data formats',
  usage: ['tandem data formats [--json]'],
  description: 'Lists the dataset formats tandem reads and their task variants.',
  options: { json: { type: 'boolean', help: 'print one JSON object' } },
});

export const SYNTH = defineCommand({
  name: 'data synth',
  usage: ['tandem data synth --out <dir> [options]'],
  description: `Generates a synthetic dataset in the generic format for trying tandem offline: coloured shapes with texts
that name a colour and a shape; the label says whether text and image agree.`,
  options: {
    out: {
      type: 'string',
      required: true,
      placeholder: 'DIR',
      help: `the folder to write (${DEFAULT_GENERIC_NAME}, images/); a folder holding files is refused`,
    },
    overwrite: {
      type: 'boolean',
      help: 'delete what --out holds first (runs trained on the old dataset then point to the new one)',
    },
    count: { type: 'int', default: SYNTH_DEFAULTS.count, min: 1, help: 'posts' },
    seed: { type: 'int', default: SYNTH_DEFAULTS.seed, help: 'random seed' },
    size: { type: 'int', default: SYNTH_DEFAULTS.size, min: 8, help: 'image side in pixels' },
    colours: {
      type: 'int',
      default: SYNTH_DEFAULTS.colours,
      min: 2,
      max: 4,
      help: 'colours to draw from (two make the easiest task)',
    },
    style: {
      type: 'enum',
      choices: ['social', 'plain'],
      default: SYNTH_DEFAULTS.style,
      help: 'tweet-like sentences, or just "<colour> <shape>" (easier for tiny models)',
    },
    'match-rate': {
      type: 'number',
      default: SYNTH_DEFAULTS.matchRate,
      min: 0,
      max: 1,
      help: 'fraction of posts whose text and image agree',
    },
    json: { type: 'boolean', help: 'print one JSON object' },
  },
});

export const specs = [INSPECT, CONVERT, FORMATS_COMMAND, SYNTH];

const SUBCOMMANDS = { inspect: INSPECT, convert: CONVERT, formats: FORMATS_COMMAND, synth: SYNTH } as const;

const OVERVIEW = `Usage: tandem data <inspect|convert|formats|synth> [options]

  tandem data inspect --format <name> <dir> [--json]    report on a dataset in its published layout
  tandem data convert --format <name> <dir> --out FILE  write it in the generic format
  tandem data formats [--json]                          list the formats and their variants
  tandem data synth --out <dir> [options]               generate a synthetic dataset for trying tandem

Run \`tandem data <subcommand> --help\` for the options of each.`;

type LoadValues = ParsedValues<typeof LOAD_OPTIONS>;

/** "8:1:1" -> [0.8, 0.1, 0.1]; undefined when it is not three non-negative numbers with a positive sum. */
function parseRatios(v: string): [number, number, number] | undefined {
  const parts = v.split(/[:,]/).map((x) => (x.trim() === '' ? NaN : Number(x)));
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p < 0)) return undefined;
  const sum = parts[0]! + parts[1]! + parts[2]!;
  return sum > 0 ? (parts.map((p) => p / sum) as [number, number, number]) : undefined;
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

/** The loader's policy from --missing-image and --on-bad-row (or the deprecated --on-missing-image). */
function missingImagePolicy(values: LoadValues, given: ReadonlySet<string>): MissingImagePolicy {
  const old = values['on-missing-image'];
  if (old !== undefined) {
    if (given.has('missing-image'))
      throw new CliError('--on-missing-image is the deprecated spelling of --missing-image: give only --missing-image');
    return old;
  }
  if (values['missing-image'] === 'keep') return 'keep';
  return values['on-bad-row'] === 'skip' ? 'drop' : 'error';
}

function loadFromArgs(
  values: LoadValues,
  given: ReadonlySet<string>,
  positionals: string[],
  forInspect: boolean,
): LoadResult {
  const format = values.format;
  const info = FORMATS[format]!;
  const dir = resolve(positionals[0]!);
  if (!existsSync(dir)) throw new CliError(`${dir}: not found (expected the ${format} dataset folder)`);
  const policy = missingImagePolicy(values, given);
  if (values.variant !== undefined && !info.variants?.includes(values.variant)) {
    throw new CliError(
      `--variant '${values.variant}' is not one of ${format}'s: ${info.variants?.join(', ') ?? '(none)'}`,
    );
  }
  const reading = new CountProgress('reading', undefined, { enabled: !values['no-progress'] });
  const opts: LoadOptions = {
    onProgress: (n) => reading.update(n),
    onMissingImage: policy,
    onMalformedLine: values['on-bad-row'],
    splitSeed: values['split-seed'],
    splitRatios: values['split-ratios'] === undefined ? undefined : parseRatios(values['split-ratios']),
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
  } finally {
    reading.end();
  }
}

/** The posts left out while reading, on stderr: bad rows skipped and the format's own drops. */
function printLeftOutOf(command: string, result: LoadResult, onBadRow: string): void {
  printLeftOut(command, `posts skipped (--on-bad-row ${onBadRow})`, groupsOf(result.badRows, result.leftOut));
  printDropped(command, result);
}

async function inspect(values: LoadValues, given: ReadonlySet<string>, positionals: string[]): Promise<number> {
  const result = loadFromArgs(values, given, positionals, true);
  printLeftOutOf('data inspect', result, values['on-bad-row']);
  const checking = new CountProgress('checking images', undefined, { enabled: !values['no-progress'], unit: 'images' });
  let report;
  try {
    report = inspectDataset(result, (done, total) => checking.update(done, total));
  } finally {
    checking.end();
  }
  console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return EXIT.ok;
}

async function convert(
  values: ParsedValues<typeof CONVERT.options>,
  given: ReadonlySet<string>,
  positionals: string[],
): Promise<number> {
  let out = resolve(values.out);
  if (existsSync(out) && statSync(out).isDirectory()) out = join(out, DEFAULT_GENERIC_NAME);
  const result = loadFromArgs(values, given, positionals, false);
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
    bad_rows: result.badRows,
    dropped: result.dropped,
    kept_without_image: result.keptWithoutImage,
    split: result.split,
    notes: result.notes,
  };
  printLeftOutOf('data convert', result, values['on-bad-row']);
  if (values.json) console.log(JSON.stringify(summary, null, 2));
  else {
    const counts = (c: Record<string, number>) =>
      Object.entries(c)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none';
    console.log(
      `wrote ${summary.total} posts to ${out} (${Object.entries(splits)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}); skipped: ${counts(result.badRows)}; dropped: ${counts(result.dropped)}`,
    );
    for (const n of result.notes) console.log(`note: ${n}`);
  }
  return EXIT.ok;
}

async function synth(values: ParsedValues<typeof SYNTH.options>): Promise<number> {
  const out = resolve(values.out);
  // runs may point to the dataset already there: replacing it is asked for, never done by accident
  if (values.overwrite) replaceFolder(out);
  else refuseFilledFolder(out);
  const rows = await writeSyntheticDataset(out, {
    count: values.count,
    seed: values.seed,
    size: values.size,
    colours: values.colours,
    style: values.style,
    matchRate: values['match-rate'],
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
    console.log(OVERVIEW);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  switch (sub) {
    case 'inspect': {
      const a = parseCommand(INSPECT, rest);
      return a ? inspect(a.values, a.given, a.positionals) : EXIT.ok;
    }
    case 'convert': {
      const a = parseCommand(CONVERT, rest);
      return a ? convert(a.values, a.given, a.positionals) : EXIT.ok;
    }
    case 'formats': {
      const a = parseCommand(FORMATS_COMMAND, rest);
      return a ? listFormats(a.values.json) : EXIT.ok;
    }
    case 'synth': {
      const a = parseCommand(SYNTH, rest);
      return a ? synth(a.values) : EXIT.ok;
    }
    default:
      throw new CliError(
        `unknown subcommand '${sub}'${didYouMean(sub, Object.keys(SUBCOMMANDS))} (expected ${Object.keys(SUBCOMMANDS).join(', ')})\n\n${OVERVIEW}`,
      );
  }
}
