// scripts/check-copies.mjs: the real tree's marked copies match their sources, and a change to a copy (or to its
// source alone) is reported with the file and line, on fed text and on a temporary copy of the tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from '../helpers/cli.js';

interface Copy {
  path: string;
  line: number;
  name: string;
  source: string;
  ok: boolean;
}
interface Checker {
  checkCopies(
    files: { path: string; text: string }[],
    opts?: { fix?: boolean },
  ): { copies: Copy[]; errors: string[]; fixed: Map<string, string> };
  readTree(root: string): { path: string; text: string }[];
}

const SCRIPT = join(REPO_ROOT, 'scripts', 'check-copies.mjs');
const checker = (await import(pathToFileURL(SCRIPT).href)) as Checker;
const tree = checker.readTree(REPO_ROOT);

/** The tree with one file's text replaced (the first occurrence of `from`, which must exist). */
function edited(path: string, from: string, to: string): { path: string; text: string }[] {
  return tree.map((f) => {
    if (f.path !== path) return f;
    assert.ok(f.text.includes(from), `${path} contains ${from}`);
    return { path, text: f.text.replace(from, to) };
  });
}

function lineOf(text: string, needle: string): number {
  return text.slice(0, text.indexOf(needle)).split('\n').length;
}

test('the marked copies of the tree match their sources', () => {
  const r = checker.checkCopies(tree);
  assert.deepEqual(r.errors, []);
  const names = r.copies.map((c) => `${c.path} ${c.name} <- ${c.source}`);
  assert.ok(r.copies.length >= 8, names.join('\n'));
  assert.ok(names.includes('src/models/vilt.ts ViltSelfAttention <- models/vit.ts ViTSelfAttention'), names.join('\n'));
  assert.ok(names.includes('src/models/blip.ts BlipTextResidualOutput <- models/bert.ts BertResidualOutput'));
  const cli = spawnSync(process.execPath, [SCRIPT], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /check-copies: \d+ marked copies in 2 files, 0 differing, 0 problems/);
});

test('a changed copy fails, naming the file and the line of the difference', () => {
  const vilt = tree.find((f) => f.path === 'src/models/vilt.ts')!.text;
  // Keys and values swapped: the same length, a real bug.
  const changed = 'const o = F.attention(q, k, v, {';
  const r = checker.checkCopies(edited('src/models/vilt.ts', changed, 'const o = F.attention(q, v, k, {'));
  assert.equal(r.errors.length, 1, r.errors.join('\n'));
  assert.match(
    r.errors[0]!,
    new RegExp(
      `^src/models/vilt\\.ts:${lineOf(vilt, changed)}: ViltSelfAttention differs from its source src/models/vit\\.ts:\\d+ ` +
        'ViTSelfAttention after the renames ViT->Vilt: the copy has .*F\\.attention\\(q, v, k',
    ),
  );
  // A change to the source alone is caught at the copy as well.
  const s = checker.checkCopies(
    edited(
      'src/models/bert.ts',
      'new Linear(config.hidden_size, config.intermediate_size)',
      'new Linear(config.hidden_size, 7)',
    ),
  );
  assert.equal(s.errors.length, 1, s.errors.join('\n'));
  assert.match(
    s.errors[0]!,
    /^src\/models\/blip\.ts:\d+: BlipTextIntermediate differs from its source src\/models\/bert\.ts:\d+ BertIntermediate after the renames Bert->BlipText/,
  );
});

test('formatting does not count; renames do; markers that check nothing are errors', () => {
  const reflowed = checker.checkCopies(
    edited(
      'src/models/vilt.ts',
      'return this.output.forward(this.attention.forward(x, mask));',
      'return this.output.forward(\n      this.attention.forward(x, mask,),\n    );',
    ),
  );
  assert.deepEqual(reflowed.errors, []);
  const unrenamed = checker.checkCopies(
    edited('src/models/vilt.ts', 'readonly attention: ViltSelfAttention;', 'readonly attention: ViTSelfAttention;'),
  );
  assert.equal(unrenamed.errors.length, 1);
  const files = [
    { path: 'src/models/a.ts', text: 'export function f(x: number): number {\n  return x + 1;\n}\n' },
    {
      path: 'src/models/b.ts',
      text: [
        '// Copied from models/a.ts g',
        'function g2(): void {}',
        '// Copied from models/missing.ts f',
        'function f3(): void {}',
        'function inner(): void {',
        '  // Copied from models/a.ts f',
        '}',
        '// Copied from models/a.ts f (names: x->y, oops)',
        'function f4(): void {}',
      ].join('\n'),
    },
  ];
  assert.deepEqual(checker.checkCopies(files).errors, [
    'src/models/b.ts:2: g2 is copied from models/a.ts g, which has no such top-level declaration',
    'src/models/b.ts:4: f3 is copied from models/missing.ts, which does not exist under src/',
    'src/models/b.ts:8: rename "oops" is not Old->New',
    'src/models/b.ts:6: "Copied from" marker not directly above a top-level declaration',
  ]);
});

test('on a temporary copy of the tree: the command fails on a changed copy, --fix restores it from the source', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-copies-'));
  try {
    cpSync(join(REPO_ROOT, 'src'), join(dir, 'src'), { recursive: true });
    const path = join(dir, 'src', 'models', 'blip.ts');
    const original = readFileSync(path, 'utf8');
    writeFileSync(
      path,
      original.replace(
        'this.dropout.forward(this.dense.forward(x)).add(residual)',
        'this.dense.forward(x).add(residual)',
      ),
    );
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [SCRIPT, '--root', dir, ...args], { encoding: 'utf8' });
    const bad = run();
    assert.equal(bad.status, 1);
    assert.match(
      bad.stderr,
      /^src\/models\/blip\.ts:\d+: BlipTextResidualOutput differs from its source src\/models\/bert\.ts:\d+ BertResidualOutput/,
    );
    assert.equal(run('--fix').status, 0);
    assert.equal(run().status, 0);
    assert.equal(readFileSync(path, 'utf8'), original);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
