// The README's table of the bad-row and missing-image flags against every command's option table, both ways:
// each cell's values and default are what the command's parser takes, a command without the flag says '—',
// and no command takes a flag of that vocabulary the table does not list for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.js';
import { COMMANDS } from '../../src/cli/main.js';
import type { CommandSpec, OptionSpec } from '../../src/cli/options.js';

const specs = new Map<string, CommandSpec>();
for (const c of Object.values(COMMANDS)) for (const s of (await c.load()).specs) specs.set(s.name, s);

/** The flags of the vocabulary: any option about bad rows or missing images, however it is spelled. */
const VOCABULARY = /bad-?row|missing-?image|image-?missing/;

interface Cell {
  values: string[];
  /** The value marked "(default)", or undefined when none is (a default computed elsewhere). */
  default: string | undefined;
}

/** The table under "### Bad rows and missing images" whose first column is "flag": flag -> command -> cell. */
function readmeTable(): { commands: string[]; rows: Map<string, Map<string, Cell | null>> } {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.split('### Bad rows and missing images')[1]?.split('\n### ')[0];
  assert.ok(section, 'README has the section "Bad rows and missing images"');
  const lines = section.split('\n').filter((l) => l.startsWith('|'));
  const header = lines.findIndex((l) => /^\|\s*flag\s*\|/.test(l));
  assert.ok(header >= 0, 'the section has a table whose first column is "flag"');
  const cells = (l: string) =>
    l
      .trim()
      .replace(/^\||\|$/g, '')
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
  const commands = cells(lines[header]!).slice(1);
  const rows = new Map<string, Map<string, Cell | null>>();
  for (const l of lines.slice(header + 2)) {
    if (!l.startsWith('| `--')) break;
    const [flagCell, ...rest] = cells(l);
    const flag = /`--([a-z-]+)`/.exec(flagCell!)![1]!;
    const byCommand = new Map<string, Cell | null>();
    rest.forEach((c, i) => {
      if (c === '—') return byCommand.set(commands[i]!, null);
      const values = [...c.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
      const def = /`([^`]+)` \(default\)/.exec(c)?.[1];
      byCommand.set(commands[i]!, { values, default: def });
    });
    rows.set(flag, byCommand);
  }
  return { commands, rows };
}

function choicesOf(o: OptionSpec): readonly string[] {
  assert.equal(o.type, 'enum', 'the vocabulary flags are choices');
  return o.type === 'enum' ? o.choices : [];
}

test('the README flag table matches every command option table, both ways', () => {
  const { commands, rows } = readmeTable();
  assert.deepEqual(commands, ['train', 'evaluate', 'predict', 'data convert', 'data inspect', 'serve']);
  assert.ok(rows.has('on-bad-row') && rows.has('missing-image'), [...rows.keys()].join(', '));
  for (const command of commands) {
    const spec = specs.get(command);
    assert.ok(spec, `no command '${command}'`);
    // table -> parser
    for (const [flag, byCommand] of rows) {
      const cell = byCommand.get(command);
      assert.notEqual(cell, undefined, `README: --${flag} has no cell for ${command}`);
      const o: OptionSpec | undefined = spec.options[flag];
      if (cell === null) {
        assert.equal(o, undefined, `${command} takes --${flag} but the README table says it does not`);
        continue;
      }
      assert.ok(o, `the README table says ${command} takes --${flag}, its parser does not`);
      assert.deepEqual(
        [...choicesOf(o!)].sort(),
        [...cell!.values].sort(),
        `${command} --${flag}: values in the parser vs the README table`,
      );
      const def: string | undefined = o!.type === 'enum' ? o!.default : undefined;
      assert.equal(def, cell!.default, `${command} --${flag}: default in the parser vs the README table`);
    }
    // parser -> table
    for (const flag of Object.keys(spec.options).filter((f) => VOCABULARY.test(f)))
      assert.ok(
        rows.get(flag)?.get(command),
        `${command} takes --${flag}, which the README table of bad-row and missing-image flags does not list for it`,
      );
  }
});

test('a bad-row error advises only flags of the command that raised it', async () => {
  const { BadRowError } = await import('../../src/data/pipeline/bad-rows.js');
  const advice = (reason: 'missing-image' | 'empty-text') =>
    new BadRowError({ id: 'p', reason, detail: 'x' }).message.match(/--[a-z-]+/g) ?? [];
  // the commands that check posts against a model raise it: each takes every flag it names
  for (const command of ['train', 'evaluate', 'predict'])
    for (const flag of [...advice('missing-image'), ...advice('empty-text')])
      assert.ok(
        specs.get(command)!.options[flag.slice(2)],
        `${command}: the advice names ${flag}, which it does not take`,
      );
  assert.deepEqual(advice('empty-text'), ['--on-bad-row']);
  assert.deepEqual(advice('missing-image'), ['--on-bad-row', '--missing-image']);
});
