// Every command's options come from one table: each option its --help page documents parses (typed), each
// option of the table is documented, --help counts only as a flag, mistakes exit 2 naming the flag with a
// "did you mean", and train's optimisation preset resolves with explicit flags on top.
import { allRecipes } from '../../src/multimodal/registry.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { COMMANDS } from '../../src/cli/main.js';
import { helpText, parseCommand, type CommandSpec, type OptionSpec } from '../../src/cli/options.js';
import { closest, editDistance } from '../../src/cli/suggest.js';
import { CliError } from '../../src/cli/args.js';
import { TRAIN, configFromFlags } from '../../src/cli/commands/train.js';
import { TOKENIZE } from '../../src/cli/commands/tokenize.js';
import { PAPER, PRESETS } from '../../src/train/defaults.js';

const specs: CommandSpec[] = [];
for (const [name, c] of Object.entries(COMMANDS)) {
  const mod = await c.load();
  assert.ok(mod.specs.length > 0, `${name} exports its option tables`);
  specs.push(...mod.specs);
}

/** A value the option accepts: its last choice, its bound, or a plain word. */
function sample(name: string, o: OptionSpec): string | undefined {
  switch (o.type) {
    case 'boolean':
      return undefined;
    case 'enum':
      return o.choices.at(-1)!;
    case 'list':
      return o.choices ? o.choices[0]! : 'a,b';
    case 'int':
      return String(o.min ?? 3);
    case 'number':
      return String(o.max ?? Math.max(o.min ?? 0, 0.5));
    case 'string':
      return name === 'device' ? 'cuda:1' : o.check ? '6:2:2' : 'some-value';
  }
}

/** The flags the help page documents: the first column of its option lines. */
function documented(help: string): string[] {
  return [...help.matchAll(/^ {2}(?:-[a-zA-Z], )?--([a-z0-9-]+)/gm)].map((m) => m[1]!);
}

/** What parseCommand needs besides the option under test: the required options and positionals. */
function baseArgs(spec: CommandSpec, except: string): string[] {
  const args: string[] = [];
  for (const [name, o] of Object.entries(spec.options))
    if (o.required && name !== except) args.push(`--${name}`, sample(name, o)!);
  for (let i = 0; i < (spec.positionals?.min ?? 0); i++) args.push(`positional-${i}`);
  return args;
}

test('every command: the --help it prints is the table rendered, and documents exactly the table', () => {
  assert.deepEqual(
    specs.map((s) => s.name),
    [
      'normalize',
      'tokenize',
      'preprocess',
      'forward',
      'train',
      'evaluate',
      'predict',
      'serve',
      'study run',
      'study status',
      'study report',
      'data inspect',
      'data convert',
      'data formats',
      'data synth',
    ],
  );
  for (const spec of specs) {
    const r = runCli([...spec.name.split(' '), '--help']);
    assert.equal(r.status, 0, `${spec.name}: ${r.stderr}`);
    assert.equal(r.stdout.trimEnd(), helpText(spec), `${spec.name} --help is its table rendered`);
    const flags = documented(r.stdout);
    assert.deepEqual(
      [...flags].sort(),
      [...Object.keys(spec.options), 'help'].sort(),
      `${spec.name}: documented flags = the table's`,
    );
    assert.equal(new Set(flags).size, flags.length, `${spec.name}: each flag documented once`);
  }
});

test('every command: every documented option parses to a typed value, and an undocumented one is refused', () => {
  let checked = 0;
  for (const spec of specs) {
    const help = helpText(spec);
    for (const flag of documented(help)) {
      if (flag === 'help') continue;
      const o = spec.options[flag]!;
      const value = sample(flag, o);
      const argv = [...baseArgs(spec, flag), `--${flag}`, ...(value === undefined ? [] : [value])];
      const parsed = parseCommand(spec, argv);
      assert.ok(parsed, `${spec.name} ${argv.join(' ')}`);
      const got = (parsed.values as Record<string, unknown>)[flag];
      const want =
        o.type === 'boolean'
          ? true
          : o.type === 'int' || o.type === 'number'
            ? Number(value)
            : o.type === 'list'
              ? value === 'none'
                ? []
                : value!.split(',')
              : value;
      assert.deepEqual(got, want, `${spec.name} --${flag} ${value ?? ''}`);
      assert.ok(parsed.given.has(flag));
      checked++;
    }
    assert.throws(
      () => parseCommand(spec, [...baseArgs(spec, ''), '--not-an-option']),
      (e: unknown) => e instanceof CliError && e.exitCode === 2 && /unknown option --not-an-option/.test(e.message),
    );
  }
  console.log(`${checked} documented options parsed across ${specs.length} commands`);
  assert.ok(checked > 90);
});

test('the help page aligns its columns and shows every default', () => {
  const help = helpText(TRAIN);
  const lines = help.split('\n').filter((l) => /^ {2}(-h, )?--/.test(l));
  const starts = new Set(lines.filter((l) => /^ {2}\S+( \S+)? {2,}\S/.test(l)).map((l) => l.search(/(?<=\S {2,})\S/)));
  assert.equal(starts.size, 1, `descriptions start in one column: ${[...starts]}`);
  for (const [flag, text] of [
    ['lr', 'default: 1e-5'],
    ['weight-decay', 'default: 2.5e-4'],
    ['batch-size', 'default: 16'],
    ['preset', 'default: paper'],
    ['schedule', 'default: paper constant, tandem linear'],
    ['max-grad-norm', 'default: paper off, tandem 1'],
    ['aux', 'default: itc,itm'],
  ] as const) {
    const at = help.indexOf(`  --${flag} `);
    const entry = help.slice(at, help.indexOf('\n  -', at + 3));
    assert.ok(entry.replace(/\s+/g, ' ').includes(text), `--${flag}: ${entry}`);
  }
  // The recipe options are one group: --recipe and --head, then every recipe's own flags from the registry.
  const recipe = help.slice(help.indexOf('\nRecipe:\n'), help.indexOf('\n\n', help.indexOf('\nRecipe:\n') + 1));
  const fromRegistry = [...new Set(allRecipes().flatMap((r) => r.options.flatMap((o) => (o.cli ? [o.cli.flag] : []))))];
  assert.deepEqual(documented(recipe), ['recipe', 'head', ...fromRegistry]);
  for (const flag of ['fusion', 'representation', 'train-image-encoder']) assert.ok(fromRegistry.includes(flag), flag);
});

test('values come back typed, with the defaults of src/train/defaults.ts', () => {
  const p = parseCommand(TRAIN, ['--lr', '3e-4', '--epochs', '3', '--aux', 'itc', '--preset', 'tandem', '--json'])!;
  assert.equal(p.values.lr, 3e-4);
  assert.equal(p.values.epochs, 3);
  assert.deepEqual(p.values.aux, ['itc']);
  assert.equal(p.values.preset, 'tandem');
  assert.equal(p.values.json, true);
  assert.equal(p.values['batch-size'], PAPER.batchSize);
  assert.equal(p.values['weight-decay'], PAPER.weightDecay);
  assert.equal(p.values['no-progress'], false);
  assert.equal(p.values.schedule, undefined, 'preset-dependent options stay unset until the preset resolves');
  assert.deepEqual([...p.given].sort(), ['aux', 'epochs', 'json', 'lr', 'preset']);
  assert.deepEqual(parseCommand(TRAIN, ['--aux', 'none'])!.values.aux, []);
  assert.equal(parseCommand(TRAIN, ['--itc-weight=-0'])!.values['itc-weight'], -0);
});

test('the preset gives the schedule, clipping, decay and patience; explicit flags override it', async () => {
  const model = ['--model', join(REPO_ROOT, 'examples', 'tiny-models', 'vilt'), '--data', 'x.jsonl', '--out', 'o'];
  const resolve = async (args: string[]) => configFromFlags(parseCommand(TRAIN, [...model, ...args])!.values);
  const pick = (c: Awaited<ReturnType<typeof resolve>>) => ({
    schedule: c.schedule,
    warmupRatio: c.warmupRatio,
    maxGradNorm: c.maxGradNorm,
    decayExempt: c.decayExempt,
    patience: c.patience,
  });
  const paper = await resolve([]);
  assert.equal(paper.preset, 'paper');
  assert.deepEqual(pick(paper), {
    schedule: 'constant',
    warmupRatio: 0,
    maxGradNorm: null,
    decayExempt: 'none',
    patience: 0,
  });
  assert.deepEqual(pick(await resolve(['--preset', 'tandem'])), { ...PRESETS.tandem });
  assert.deepEqual(pick(await resolve(['--preset', 'tandem', '--max-grad-norm', '0', '--patience', '5'])), {
    ...PRESETS.tandem,
    maxGradNorm: null,
    patience: 5,
  });
  assert.deepEqual(pick(await resolve(['--schedule', 'cosine', '--warmup-ratio', '0.05', '--max-grad-norm', '2'])), {
    schedule: 'cosine',
    warmupRatio: 0.05,
    maxGradNorm: 2,
    decayExempt: 'none',
    patience: 0,
  });
  assert.equal(paper.lr, PAPER.lr);
  assert.equal(paper.weightDecay, PAPER.weightDecay);
});

test("--help is help only as a flag: not as another flag's value, not after --", () => {
  const inline = parseCommand(TRAIN, ['--out=--help', '--data', 'x']);
  assert.ok(inline, '--out=--help is a value');
  assert.equal(inline.values.out, '--help');
  assert.equal(parseCommand(TOKENIZE, ['--tokenizer', 't', '--', '--help'])!.positionals[0], '--help');
  assert.throws(
    () => parseCommand(TRAIN, ['--out', '--help']),
    (e: unknown) =>
      e instanceof CliError &&
      e.exitCode === 2 &&
      /--out expects a value \(DIR\), got the flag '--help'/.test(e.message),
  );
  // End to end: the text '--help' is tokenized, not answered with the help page.
  const tok = join(REPO_ROOT, 'examples', 'tiny-models', 'bert');
  const r = runCli(['tokenize', '--tokenizer', tok, '--json', '--pair=--help', '--', '--help']);
  assert.equal(r.status, 0, r.stderr);
  const o = JSON.parse(r.stdout);
  assert.ok(Array.isArray(o.ids) && o.ids.length > 2, r.stdout);
  const p = runCli(['predict', '--run', 'no-run', '--text=--help', '--image', 'no-such.png']);
  assert.equal(p.status, 2);
  assert.match(p.stderr, /--image no-such\.png: no such file/);
  const h = runCli(['tokenize', '--tokenizer', tok, 'x', '-h']);
  assert.equal(h.status, 0);
  assert.equal(h.stdout.trimEnd(), helpText(TOKENIZE));
});

test('mistakes exit 2 naming the flag, with "did you mean" for flags, choices, commands and subcommands', () => {
  const cases: [string[], RegExp][] = [
    [['train', '--lrr', '1'], /unknown option --lrr; did you mean --lr\?/],
    [['train', '--epcohs', '2'], /unknown option --epcohs; did you mean --epochs\?/],
    [['train', '--metric', 'f1'], /--metric f1: expected one of accuracy, f1_macro, .*; did you mean f1_macro\?/],
    [
      ['train', '--fusion', 'gmo'],
      /--fusion gmo: expected one of concat, attention, aspect-att, gmu, .*; did you mean gmu\?/,
    ],
    [['train', '--aux', 'itc,imt'], /--aux itc,imt: 'imt' is not one of itc, itm, none; did you mean itm\?/],
    [['train', '--epochs', '0'], /--epochs 0: must be at least 1/],
    [['train', '--epochs', '2.5'], /--epochs 2\.5: expected an integer/],
    [['train', '--lr', 'fast'], /--lr fast: expected a number/],
    [['train', '--device', 'gpu'], /--device gpu: expected cpu, cuda or cuda:N/],
    [['train', '--json=yes'], /--json takes no value/],
    [['train', '--out'], /--out expects a value \(DIR\)/],
    [['train', 'stray'], /unexpected argument 'stray'/],
    [
      ['train', '--resume', '--out', 'runs/x', '--epochs', '3'],
      /--resume continues with the settings in runs\/x\/run\.json; it does not take --epochs/,
    ],
    [['serve', '--run', 'r', '--port', '70000'], /--port 70000: must be at most 65535/],
    [['evaluate', '--data', 'd'], /--run is required/],
    [['data', 'synth', '--out', 'x', '--colours', '5'], /--colours 5: must be at most 4/],
    [['data', 'convert', '--format', 'msd', 'a', 'b', '--out', 'o'], /expected at most 1 dataset folder, got 2/],
    [['data', 'inspect', '--format', 'mvsa-singel', 'd'], /did you mean mvsa-single\?/],
    [['trian'], /unknown command 'trian'; did you mean train\?/],
    [['data', 'synh'], /unknown subcommand 'synh'; did you mean synth\?/],
  ];
  for (const [argv, re] of cases) {
    const r = runCli(argv);
    assert.equal(r.status, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, argv.join(' '));
  }
  const top = runCli(['--help']);
  assert.match(top.stdout, /data formats \| data synth \| data inspect \| data convert/);
});

test('suggestions: edit distance with transpositions, prefixes, nothing when nothing is close', () => {
  assert.equal(editDistance('epcohs', 'epochs'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(closest('batchsize', ['batch-size', 'eval-batch-size']), 'batch-size');
  assert.equal(closest('f1', ['accuracy', 'f1_macro', 'f1_weighted']), 'f1_macro');
  assert.equal(closest('zzzz', ['train', 'evaluate']), undefined);
});
