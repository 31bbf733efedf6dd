// Run folders that cannot be confused, checks before any work, and what run.json records about the code and
// the machine: a new run refuses an --out holding files (before reading any data) unless --overwrite (which
// replaces it, after the checks on the settings) or --resume; `data synth` refuses a filled folder the same way;
// --feature-cache where it cannot apply and an --predictions file in a missing folder are usage errors before any
// step; run.json's environment reads back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOLDEN, REPO_ROOT, runCli } from '../helpers/cli.js';
import { TINY_LATE_FUSION, logSteps, synthData, synthPosts } from '../helpers/train.js';
import { readRunConfig } from '../../src/train/experiment.js';
import { gitCommit, packageVersion } from '../../src/runtime/package-info.js';
import { torchVersion } from '../../src/tensor/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'tandem-runfolder-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const data = synthData(join(tmp, 'data'), 48);
const VILT = ['--model', join(GOLDEN, 'models', 'vilt'), '--init', 'random', '--max-length', '16'];
const short = (out: string, steps: number, d = data) => [
  'train',
  ...VILT,
  '--data',
  d,
  '--out',
  out,
  '--steps',
  String(steps),
  '--epochs',
  '1',
  '--batch-size',
  '8',
  '--no-progress',
];
const trainOk = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const r = runCli(args, { env });
  assert.equal(r.status, 0, r.stderr);
  return r;
};

test('a new run refuses an --out holding files before reading any data; --overwrite replaces it', () => {
  const out = join(tmp, 'run');
  trainOk(short(out, 2));
  assert.equal(logSteps(out), 2);
  // a --data that does not exist: the refusal comes first, so nothing was read
  const again = runCli(short(out, 2, join(tmp, 'no-such-data.jsonl')));
  assert.equal(again.status, 2, again.stderr);
  assert.ok(again.stderr.includes(`--out ${out} already holds files (`), again.stderr);
  assert.match(again.stderr, /--resume to continue the run it holds, --overwrite to delete them/);
  assert.equal(logSteps(out), 2, 'no step appended to the old log');
  // a folder that holds something else is refused too
  const stray = join(tmp, 'stray');
  mkdirSync(stray);
  writeFileSync(join(stray, 'notes.txt'), 'mine');
  assert.equal(runCli(short(stray, 1)).status, 2);
  assert.equal(readFileSync(join(stray, 'notes.txt'), 'utf8'), 'mine');
  // --resume and --overwrite contradict each other
  const both = runCli(['train', '--resume', '--overwrite', '--out', out]);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /--overwrite/);
  // --overwrite with settings the checks refuse deletes nothing
  const refused = runCli([...short(out, 3), '--overwrite', '--feature-cache', join(tmp, 'cache')]);
  assert.equal(refused.status, 2, refused.stderr);
  assert.equal(logSteps(out), 2, 'the old run is intact after a refused --overwrite');
  // --overwrite: a fresh run, nothing of the old one left (not in the folder, not beside it)
  writeFileSync(join(out, 'old-notes.txt'), 'x');
  trainOk([...short(out, 3), '--overwrite']);
  assert.deepEqual(
    readFileSync(join(out, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).step),
    [1, 2, 3],
  );
  assert.equal(existsSync(join(out, 'old-notes.txt')), false);
  assert.deepEqual(
    readdirSync(tmp).filter((n) => n.includes('.replaced-')),
    [],
  );
  // a folder with empty folders only holds nothing to confuse
  const empty = join(tmp, 'empty');
  mkdirSync(join(empty, 'checkpoints'), { recursive: true });
  trainOk(short(empty, 1));
});

test('data synth refuses a folder holding files; --overwrite replaces the dataset', () => {
  const dir = join(tmp, 'synth');
  synthPosts(dir, ['--count', '20']);
  const again = runCli(['data', 'synth', '--out', dir, '--count', '30']);
  assert.equal(again.status, 2);
  assert.ok(again.stderr.includes(`--out ${dir} already holds files (posts.jsonl, `), again.stderr);
  assert.match(again.stderr, /--overwrite/);
  const lines = () => readFileSync(join(dir, 'posts.jsonl'), 'utf8').trim().split('\n').length;
  assert.equal(lines(), 20, 'the dataset runs point to is untouched');
  writeFileSync(join(dir, 'images', 'stale.png'), '');
  synthPosts(dir, ['--count', '30', '--overwrite']);
  assert.equal(lines(), 30);
  assert.equal(existsSync(join(dir, 'images', 'stale.png')), false);
});

test('run.json records the tandem version, git commit, libtorch, device, threads and precision', () => {
  const out = join(tmp, 'env');
  trainOk(short(out, 1), { TANDEM_NUM_THREADS: '1' });
  const env = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).environment;
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).version;
  const head = spawnSync('git', ['-C', REPO_ROOT, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
  const commit = head.status === 0 ? head.stdout.trim() : null;
  console.log(`run.json environment: ${JSON.stringify(env)}`);
  assert.equal(env.tandemVersion, pkg);
  assert.equal(env.commit, commit);
  assert.equal(typeof env.commitDirty, commit ? 'boolean' : 'object');
  assert.equal(env.libtorch, torchVersion());
  assert.equal(env.node, process.version);
  assert.equal(env.device, 'cpu');
  assert.equal(env.threads, 1);
  assert.equal(env.precision, 'fp32');
  // not a setting: --resume reads the settings without it
  assert.equal('environment' in readRunConfig(out), false);
});

test('the commit is null, without failing, outside a checkout and for a package inside another repository', () => {
  const pkg = join(tmp, 'pkg');
  mkdirSync(pkg);
  writeFileSync(join(pkg, 'package.json'), '{"version": "9.9.9"}');
  assert.equal(packageVersion(pkg), '9.9.9');
  assert.equal(gitCommit(pkg), null, 'not a checkout');
  assert.equal(packageVersion(join(tmp, 'nowhere')), null);
  const repo = join(tmp, 'project');
  const inner = join(repo, 'node_modules', 'tandem');
  mkdirSync(inner, { recursive: true });
  writeFileSync(join(inner, 'package.json'), '{"version": "1.0.0"}');
  const git = (...a: string[]) => spawnSync('git', ['-C', repo, ...a], { encoding: 'utf8' });
  if (git('init', '-q').status !== 0) return; // no git here: the null above is all there is to see
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '--allow-empty', '-m', 'x');
  assert.match(gitCommit(repo)?.commit ?? '', /^[0-9a-f]{40}/, 'the repository itself has a commit');
  assert.equal(gitCommit(inner), null, "an installed package does not report its host project's commit");
});

test('--feature-cache where no frozen image encoder exists: exit 2 naming the flags, before any step', () => {
  const cases: { name: string; args: string[]; flags: RegExp }[] = [
    { name: 'vilt', args: VILT, flags: /--feature-cache does not apply: recipe vilt has no frozen image encoder/ },
    {
      name: 'trained-image-encoder',
      args: [...TINY_LATE_FUSION, '--train-image-encoder'],
      flags: /--feature-cache does not apply: with --train-image-encoder the image encoder trains/,
    },
    {
      name: 'image-only',
      args: [
        '--recipe',
        'image-only',
        '--image-model',
        join(GOLDEN, 'models', 'vit'),
        '--init',
        'random',
        '--aux',
        'none',
      ],
      flags: /--feature-cache does not apply: recipe image-only trains its image encoder unless --freeze-image-encoder/,
    },
  ];
  for (const c of cases) {
    const out = join(tmp, `cache-${c.name}`);
    const r = runCli([
      'train',
      ...c.args,
      '--data',
      data,
      '--out',
      out,
      '--feature-cache',
      join(tmp, 'fc'),
      '--steps',
      '1',
    ]);
    assert.equal(r.status, 2, `${c.name}: ${r.stderr}`);
    assert.match(r.stderr, c.flags);
    assert.equal(logSteps(out), 0, `${c.name}: no step taken`);
    assert.equal(existsSync(join(tmp, 'fc')), false, 'no cache created');
  }
});

test('evaluate --predictions in a missing folder fails at once (exit 2 naming the flag), not after the evaluation', () => {
  // neither the run nor the data exist: the output path is checked before either is opened
  const p = join(tmp, 'missing-dir', 'p.jsonl');
  const r = runCli(['evaluate', '--run', join(tmp, 'no-run'), '--data', join(tmp, 'no-data'), '--predictions', p]);
  assert.equal(r.status, 2, r.stderr);
  assert.ok(r.stderr.includes(`--predictions ${p}: the folder ${join(tmp, 'missing-dir')} does not exist`), r.stderr);
  const dir = runCli(['evaluate', '--run', join(tmp, 'no-run'), '--data', data, '--predictions', tmp]);
  assert.equal(dir.status, 2);
  assert.match(dir.stderr, /--predictions .*: .* is a folder, not a file/);
});
