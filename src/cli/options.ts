// Every command's options declared once: a table of name, type, default, help text, group and validation, from
// which the parser, the --help page and the typed values (numbers as numbers, choices as unions) are derived.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CliError, EXIT } from './args.js';
import { didYouMean } from './suggest.js';
import { PRECISIONS } from '../tensor/autocast.js';
import { DEVICE_PATTERN, parseDevice, type Device } from '../tensor/device.js';
import { deviceProblem } from '../tensor/runtime.js';

interface OptionBase {
  /** One line or a few sentences; wrapped when the help page is rendered. */
  help: string;
  /** The help page's section heading; options keep their table order within a group. */
  group?: string;
  /** The value's name in the help page (`--out DIR`). */
  placeholder?: string;
  /** A one-letter alias (`-o`). */
  short?: string;
  /** Shown instead of the default value when the default is computed elsewhere ("twice --batch-size"). */
  defaultText?: string;
  required?: boolean;
}
export interface StringOption extends OptionBase {
  type: 'string';
  default?: string;
  /** The value must match; `expected` says how in the error ("cpu, cuda or cuda:N"). */
  pattern?: RegExp;
  expected?: string;
  /** Further validation: returns what is wrong, or undefined. */
  check?: (value: string) => string | undefined;
}
export interface IntOption extends OptionBase {
  type: 'int';
  default?: number;
  min?: number;
  max?: number;
}
export interface NumberOption extends OptionBase {
  type: 'number';
  default?: number;
  min?: number;
  max?: number;
}
export interface BooleanOption extends OptionBase {
  type: 'boolean';
}
export interface EnumOption extends OptionBase {
  type: 'enum';
  choices: readonly string[];
  default?: string;
}
/** Comma-separated values (`--aux itc,itm`); a choice named `none` stands alone and means the empty list. */
export interface ListOption extends OptionBase {
  type: 'list';
  choices?: readonly string[];
  default?: readonly string[];
}
export type OptionSpec = StringOption | IntOption | NumberOption | BooleanOption | EnumOption | ListOption;
export type OptionTable = Record<string, OptionSpec>;

type ValueOf<S> = S extends { type: 'int' | 'number' }
  ? number
  : S extends { type: 'boolean' }
    ? boolean
    : S extends { type: 'enum'; choices: readonly (infer C extends string)[] }
      ? C
      : S extends { type: 'list'; choices: readonly (infer C extends string)[] }
        ? C[]
        : S extends { type: 'list' }
          ? string[]
          : string;
type AlwaysSet<S> = S extends { type: 'boolean' }
  ? true
  : S extends { default: unknown }
    ? true
    : S extends { required: true }
      ? true
      : false;
/** The parsed values: options with a default (and booleans, and required ones) are always present. */
export type Values<T extends OptionTable> = {
  -readonly [K in keyof T as AlwaysSet<T[K]> extends true ? K : never]: ValueOf<T[K]>;
} & {
  -readonly [K in keyof T as AlwaysSet<T[K]> extends true ? never : K]?: ValueOf<T[K]>;
};

export interface CommandSpec<T extends OptionTable = OptionTable> {
  /** As typed after `tandem`: 'train', 'data synth'. */
  name: string;
  /** Usage lines without the leading "Usage: ". */
  usage: readonly string[];
  description: string;
  options: T;
  /** Positional arguments: their name in messages and how many; absent = none accepted. */
  positionals?: { name: string; min?: number; max?: number };
  /** Text after the options (exit codes, notes). */
  footer?: string;
}

/** Declares a command; `const` keeps the table's literal types so that values come back typed. */
export function defineCommand<const T extends OptionTable>(spec: CommandSpec<T>): CommandSpec<T> {
  for (const [name, o] of Object.entries(spec.options)) {
    if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name))
      throw new Error(`${spec.name}: option '${name}' is not kebab-case`);
    if (name === 'help') throw new Error(`${spec.name}: --help is added to every command`);
    if (o.type === 'enum' && o.default !== undefined && !o.choices.includes(o.default))
      throw new Error(`${spec.name}: --${name} default '${o.default}' is not one of its choices`);
  }
  return spec;
}

const HELP_OPTION: BooleanOption = { type: 'boolean', short: 'h', help: 'show this help', group: 'Help' };
const WIDTH = 110;
const MAX_FLAG_COLUMN = 30;

function formatDefault(v: unknown): string {
  if (typeof v === 'number') return v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential() : String(v);
  if (Array.isArray(v)) return v.length === 0 ? 'none' : v.join(',');
  return String(v);
}

function placeholder(o: OptionSpec): string {
  if (o.type === 'boolean') return '';
  if (o.placeholder) return ` ${o.placeholder}`;
  if (o.type === 'enum') return o.choices.join('|').length <= 24 ? ` ${o.choices.join('|')}` : ' NAME';
  if (o.type === 'int') return ' N';
  if (o.type === 'number') return ' X';
  if (o.type === 'list') return ' LIST';
  return ' S';
}

/** The text after the flag: help, then choices (when the placeholder does not show them), default, required. */
function describe(o: OptionSpec): string {
  const notes: string[] = [];
  if ((o.type === 'enum' || o.type === 'list') && o.choices && !placeholder(o).includes('|'))
    notes.push(`one of: ${o.choices.join(', ')}`);
  if (o.required) notes.push('required');
  else if (o.defaultText !== undefined) notes.push(`default: ${o.defaultText}`);
  else if (o.type !== 'boolean' && o.default !== undefined) notes.push(`default: ${formatDefault(o.default)}`);
  return notes.length ? `${o.help} (${notes.join('; ')})` : o.help;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.length ? lines : [''];
}

/** The option flag as the help page's first column shows it: `-o, --out FILE`. */
export function flagColumn(name: string, o: OptionSpec): string {
  return `${o.short ? `-${o.short}, ` : ''}--${name}${placeholder(o)}`;
}

/** The --help page: usage, description, the options by group in aligned columns with defaults, footer. */
export function helpText(spec: CommandSpec): string {
  const entries: [string, OptionSpec][] = [...Object.entries(spec.options), ['help', HELP_OPTION]];
  const groups = new Map<string, [string, OptionSpec][]>();
  for (const e of entries) {
    const g = e[1].group ?? 'Options';
    groups.set(g, [...(groups.get(g) ?? []), e]);
  }
  const col = Math.min(MAX_FLAG_COLUMN, Math.max(...entries.map(([n, o]) => flagColumn(n, o).length))) + 2;
  const out = [`Usage: ${spec.usage[0]}`, ...spec.usage.slice(1).map((u) => `       ${u}`), ''];
  out.push(...spec.description.split('\n'), '');
  for (const [group, opts] of groups) {
    if (group !== [...groups.keys()][0]) out.push('');
    out.push(`${group}:`);
    for (const [name, o] of opts) {
      const flag = `  ${flagColumn(name, o)}`;
      const text = wrap(describe(o), WIDTH - col - 2);
      if (flag.length + 2 <= col + 2) out.push(`${flag.padEnd(col + 2)}${text[0]}`);
      else out.push(flag, `${' '.repeat(col + 2)}${text[0]}`);
      for (const t of text.slice(1)) out.push(`${' '.repeat(col + 2)}${t}`);
    }
  }
  if (spec.footer) out.push('', ...spec.footer.split('\n'));
  return out.join('\n');
}

/** The defaults of a table, typed as the parser returns them. */
export function defaultsOf<T extends OptionTable>(options: T): Partial<Values<T>> {
  const out: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(options)) {
    if (o.type === 'boolean') out[name] = false;
    else if (o.default !== undefined) out[name] = Array.isArray(o.default) ? [...o.default] : o.default;
  }
  return out as Partial<Values<T>>;
}

function usageError(spec: CommandSpec, message: string): CliError {
  return new CliError(`${message}\nRun \`tandem ${spec.name} --help\` for the options.`, EXIT.usage);
}

const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Converts and validates one value; throws naming the flag and what was expected. */
function convert(spec: CommandSpec, name: string, o: OptionSpec, raw: string): unknown {
  const flag = `--${name}`;
  const fail = (what: string) => {
    throw usageError(spec, `${flag} ${raw === '' ? "''" : raw}: ${what}`);
  };
  const range = (n: number, o: IntOption | NumberOption) => {
    if (o.min !== undefined && n < o.min) fail(`must be at least ${o.min}`);
    if (o.max !== undefined && n > o.max) fail(`must be at most ${o.max}`);
    return n;
  };
  switch (o.type) {
    case 'int': {
      const n = Number(raw);
      if (!NUMERIC.test(raw.trim()) || !Number.isInteger(n)) fail('expected an integer');
      return range(n, o);
    }
    case 'number': {
      const n = Number(raw);
      if (!NUMERIC.test(raw.trim()) || !Number.isFinite(n)) fail('expected a number');
      return range(n, o);
    }
    case 'enum':
      if (!o.choices.includes(raw)) fail(`expected one of ${o.choices.join(', ')}${didYouMean(raw, o.choices)}`);
      return raw;
    case 'list': {
      const items = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (items.length === 0) fail(`expected a comma-separated list${o.choices ? ` of ${o.choices.join(', ')}` : ''}`);
      if (o.choices) {
        for (const x of items)
          if (!o.choices.includes(x)) fail(`'${x}' is not one of ${o.choices.join(', ')}${didYouMean(x, o.choices)}`);
        if (items.includes('none')) {
          if (items.length > 1) fail("'none' stands alone");
          return [];
        }
      }
      return [...new Set(items)];
    }
    case 'string':
      if (o.pattern && !o.pattern.test(raw)) fail(`expected ${o.expected ?? `a value matching ${o.pattern}`}`);
      if (o.check) {
        const problem = o.check(raw);
        if (problem) fail(problem);
      }
      return raw;
    case 'boolean':
      throw new Error('unreachable: booleans take no value');
  }
}

export interface Parsed<T extends OptionTable> {
  values: Values<T>;
  positionals: string[];
  /** The options given on the command line (not defaulted). */
  given: ReadonlySet<keyof T & string>;
}

/**
 * Parses argv against a command's table. Returns null after printing the help page when --help or -h is given
 * as a flag (not as another flag's value, not after `--`). Every mistake is a usage error (exit 2) naming the
 * flag: unknown flags and choices with a "did you mean", missing or ill-typed values, out-of-range numbers.
 */
export function parseCommand<T extends OptionTable>(spec: CommandSpec<T>, argv: readonly string[]): Parsed<T> | null {
  const table: OptionTable = { ...spec.options, help: HELP_OPTION };
  const config = Object.fromEntries(
    Object.entries(table).map(([n, o]) => [
      n,
      {
        type: o.type === 'boolean' ? ('boolean' as const) : ('string' as const),
        ...(o.short ? { short: o.short } : {}),
      },
    ]),
  );
  // Not strict: unknown flags and missing values are reported here, with suggestions and the flag's name.
  const { tokens } = parseArgs({
    args: [...argv],
    options: config,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) {
    console.log(helpText(spec));
    return null;
  }
  const names = Object.keys(table);
  const raw = new Map<string, string | true>();
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') {
      positionals.push(t.value);
      continue;
    }
    if (t.kind !== 'option') continue;
    const o = table[t.name];
    if (!o) {
      const hint = t.rawName.startsWith('--') ? didYouMean(t.name, names, '--') : '';
      throw usageError(spec, `unknown option ${t.rawName}${hint}`);
    }
    if (o.type === 'boolean') {
      if (t.value !== undefined) throw usageError(spec, `--${t.name} takes no value (got '${t.value}')`);
      raw.set(t.name, true);
      continue;
    }
    if (t.value === undefined) throw usageError(spec, `--${t.name} expects a value (${placeholder(o).trim()})`);
    // A separate argument that looks like a flag is almost always a forgotten value (`--out --json`); the
    // inline form passes such a value on purpose (`--pair=--help`). Negative numbers are values.
    if (!t.inlineValue && t.value.startsWith('-') && t.value !== '-') {
      const numeric = (o.type === 'int' || o.type === 'number') && NUMERIC.test(t.value);
      if (!numeric)
        throw usageError(
          spec,
          `--${t.name} expects a value (${placeholder(o).trim()}), got the flag '${t.value}' (write --${t.name}=${t.value} if that is the value)`,
        );
    }
    raw.set(t.name, t.value);
  }
  const p = spec.positionals;
  if (!p && positionals.length > 0) throw usageError(spec, `unexpected argument '${positionals[0]}'`);
  if (p) {
    if (p.min !== undefined && positionals.length < p.min)
      throw usageError(
        spec,
        positionals.length === 0
          ? `no ${p.name} given`
          : `expected at least ${p.min} ${p.name}, got ${positionals.length}`,
      );
    if (p.max !== undefined && positionals.length > p.max)
      throw usageError(
        spec,
        `expected at most ${p.max} ${p.name}, got ${positionals.length}: ${positionals.map((x) => `'${x}'`).join(' ')}`,
      );
  }
  const values: Record<string, unknown> = defaultsOf(spec.options);
  for (const [name, v] of raw)
    if (name !== 'help') values[name] = v === true ? true : convert(spec, name, table[name]!, v);
  for (const [name, o] of Object.entries(spec.options))
    if (o.required && values[name] === undefined) throw usageError(spec, `--${name} is required`);
  return {
    values: values as Values<T>,
    positionals,
    given: new Set([...raw.keys()].filter((k) => k !== 'help')) as Set<keyof T & string>,
  };
}

/**
 * A `check` for a flag naming a file to write: its folder must exist and be writable, and the path must not
 * be a folder, so that the command fails at once rather than after its work, on the final write.
 */
export function writableFile(value: string): string | undefined {
  const path = resolve(value);
  const dir = dirname(path);
  if (existsSync(path) && statSync(path).isDirectory()) return `${value} is a folder, not a file`;
  if (!existsSync(dir)) return `the folder ${dir} does not exist (create it first)`;
  if (!statSync(dir).isDirectory()) return `${dir} is not a folder`;
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    return `the folder ${dir} is not writable`;
  }
  return undefined;
}

/** --precision, the same in train, evaluate, predict and serve. */
export function precisionOption(help: string, group?: string) {
  return { type: 'enum' as const, choices: PRECISIONS, help, ...(group ? { group } : {}) };
}

/** A `--device` value as a Device usable here, or a usage error naming the flag (before any work is done). */
export function deviceFlag(value: string, flag = '--device'): Device {
  const device = parseDevice(value, flag);
  const problem = deviceProblem(device);
  if (problem) throw new CliError(`${flag} ${value}: ${problem}`);
  return device;
}

/** `--device`, as every command that runs a model takes it (its value goes through deviceFlag). */
export function deviceOption(help: string, group?: string) {
  return {
    type: 'string' as const,
    default: 'cpu',
    pattern: DEVICE_PATTERN,
    expected: 'cpu, cuda or cuda:N',
    placeholder: 'D',
    help,
    ...(group ? { group } : {}),
  };
}
