import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { loadDataset } from '../../src/data/formats/index.js';
import { runCli } from '../helpers/cli.js';
import {
  buildGenericLeaky,
  buildHatefulMemes,
  buildMhp,
  buildMicd,
  buildMmhs,
  buildMmsd2,
  buildMsd,
  buildMvsaMultiple,
  buildMvsaSingle,
  buildPaperKey,
  buildTir,
} from './datasets.js';
import { tempDir } from './helpers.js';

const readJsonl = (p: string): Record<string, any>[] =>
  readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l));

test('convert mvsa-single: every field of every line, image paths relative to the output, split saved', () => {
  const dir = buildMvsaSingle();
  const out = join(dir, 'posts.jsonl');
  const r = runCli(['data', 'convert', '--format', 'mvsa-single', dir, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /^wrote 4 posts to .*posts\.jsonl \(train 4\); skipped: missing-image 1; dropped: text-image-conflict 1, missing-text 1, duplicate-id 1\n/,
  );
  assert.deepEqual(readJsonl(out), [
    {
      id: '1',
      text: 'Great day at the beach! #sun http://t.co/abc',
      image: 'data/1.jpg',
      label: 'positive',
      split: 'train',
      extra: { text_label: 'positive', image_label: 'positive' },
    },
    {
      id: '2',
      text: 'Traffic again.',
      image: 'data/2.jpg',
      label: 'negative',
      split: 'train',
      extra: { text_label: 'neutral', image_label: 'negative' },
    },
    {
      id: '4',
      text: 'café “ok”',
      image: 'data/4.jpg',
      label: 'negative',
      split: 'train',
      extra: { text_label: 'negative', image_label: 'neutral', text_encoding: 'windows-1252' },
    },
    {
      id: '7',
      text: 'great day at the beach!  #sun http://t.co/xyz',
      image: 'data/7.jpg',
      label: 'positive',
      split: 'train',
      extra: { text_label: 'positive', image_label: 'positive' },
    },
  ]);
  const split = JSON.parse(readFileSync(join(dir, 'tandem-split-mvsa-single-seed42.json'), 'utf8'));
  assert.deepEqual(split, {
    format: 'mvsa-single',
    seed: 42,
    ratios: [0.8, 0.1, 0.1],
    splits: { '1': 'train', '2': 'train', '4': 'train', '7': 'train' },
  });
  // the output reads back as the generic format
  const back = runCli(['data', 'inspect', '--format', 'generic', out, '--json']);
  assert.equal(back.status, 0, back.stderr);
  assert.equal(JSON.parse(back.stdout).total, 4);
});

test('convert msd keeping imageless posts; output in the folder above the dataset; --json summary', () => {
  const dir = buildMsd();
  const out = join(dirname(dir), `${basename(dir)}.jsonl`);
  const r = runCli(['data', 'convert', '--format', 'msd', dir, '--out', out, '--on-missing-image', 'keep', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.deepEqual(
    {
      total: summary.total,
      splits: summary.splits,
      labels: summary.labels,
      dropped: summary.dropped,
      kept: summary.kept_without_image,
      kind: summary.split.kind,
    },
    {
      total: 6,
      splits: { train: 3, dev: 2, test: 1 },
      labels: { sarcastic: 3, 'non-sarcastic': 3 },
      dropped: { 'sarcasm-keyword': 1, 'duplicate-id': 1 },
      kept: 1,
      kind: 'official',
    },
  );
  const lines = readJsonl(out);
  assert.deepEqual(lines[0], {
    id: '100',
    text: 'great , another monday # mondays',
    image: `${basename(dir)}/dataset_image/100.jpg`,
    label: 'sarcastic',
    split: 'train',
  });
  assert.deepEqual(lines[2], {
    id: '103',
    text: 'no image for this one',
    image: null,
    label: 'non-sarcastic',
    split: 'train',
    extra: { image_missing: true },
  });
  assert.deepEqual(lines[4], {
    id: '201',
    text: "nice 'view'",
    image: `${basename(dir)}/dataset_image/201.jpg`,
    label: 'non-sarcastic',
    split: 'dev',
    extra: { label_hashtag: 'sarcastic' },
  });
});

test('convert writes what the loader read, field by field, for every format (JSONL and CSV)', () => {
  const builds: [string, () => string][] = [
    ['mvsa-multiple', buildMvsaMultiple],
    ['mmsd2', buildMmsd2],
    ['tir', buildTir],
    ['mhp', buildMhp],
    ['micd', buildMicd],
    ['hateful-memes', buildHatefulMemes],
    ['mmhs150k', buildMmhs],
    ['paper-key', buildPaperKey],
    ['generic', buildGenericLeaky],
  ];
  for (const [format, build] of builds) {
    const dir = build();
    const out = join(dir, 'converted.jsonl');
    const r = runCli(['data', 'convert', '--format', format, dir, '--out', out]);
    assert.equal(r.status, 0, `${format}: ${r.stderr}`);
    const want = loadDataset(format, dir, { noSaveSplit: true }).rows.map((row) => ({
      id: row.id,
      text: row.text,
      image: row.image === null ? null : row.image.slice(dir.length + 1),
      ...(row.label !== undefined ? { label: row.label } : {}),
      ...(row.split !== undefined ? { split: row.split } : {}),
      ...(row.extra ? { extra: row.extra } : {}),
    }));
    assert.ok(want.length > 0, format);
    assert.deepEqual(readJsonl(out), want, format);
    const csv = join(dir, 'converted.csv');
    assert.equal(runCli(['data', 'convert', '--format', format, dir, '--out', csv]).status, 0, format);
    assert.deepEqual(
      loadDataset('generic', csv).rows.map((x) => [x.id, x.text, x.label, x.split, x.image]),
      loadDataset('generic', out).rows.map((x) => [x.id, x.text, x.label, x.split, x.image]),
      `${format} csv`,
    );
  }
});

test('convert: --split-seed names the saved split; output outside the dataset is refused; --out is required', () => {
  const dir = buildMvsaMultiple();
  const r = runCli([
    'data',
    'convert',
    '--format',
    'mvsa-multiple',
    dir,
    '--out',
    join(dir, 'p.jsonl'),
    '--split-seed',
    '7',
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(dir, 'tandem-split-mvsa-multiple-seed7.json')));
  const elsewhere = tempDir();
  const bad = runCli(['data', 'convert', '--format', 'mvsa-multiple', dir, '--out', join(elsewhere, 'p.jsonl')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /is not inside the output folder/);
  assert.ok(!existsSync(join(elsewhere, 'p.jsonl')));
  const noOut = runCli(['data', 'convert', '--format', 'mvsa-multiple', dir]);
  assert.equal(noOut.status, 2);
  assert.match(noOut.stderr, /--out is required/);
  const badSeed = runCli([
    'data',
    'convert',
    '--format',
    'mvsa-multiple',
    dir,
    '--out',
    join(dir, 'q.jsonl'),
    '--split-seed',
    'x',
  ]);
  assert.equal(badSeed.status, 2);
  assert.match(badSeed.stderr, /--split-seed x: expected an integer/);
});

test('convert says on stderr what it left out: per reason the count, the ids, the path of a missing image', async () => {
  const dir = buildMvsaSingle();
  const out = join(dir, 'posts.jsonl');
  const r = runCli(['data', 'convert', '--format', 'mvsa-single', dir, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const image = join(dir, 'data', '5.jpg').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  assert.match(
    r.stderr,
    new RegExp(
      `tandem data convert: posts skipped \\(--on-bad-row skip\\): 1 post\\n  missing-image 1 — id 5\\n    post 5: image file not found: ${image}\\n`,
    ),
  );
  assert.match(r.stderr, /posts dropped by the mvsa-single format's rules: 3 posts\n/);
  assert.match(r.stderr, / {2}text-image-conflict 1 — id 3\n/);
  assert.match(r.stderr, / {2}duplicate-id 1 — id 1\n/);
  // --on-bad-row error stops at the post, naming the path, and advises only flags convert takes
  const e = runCli(['data', 'convert', '--format', 'mvsa-single', dir, '--out', out, '--on-bad-row', 'error']);
  assert.equal(e.status, 2, e.stderr);
  assert.match(e.stderr, new RegExp(`post 5: missing-image: image file not found: ${image}; `));
  const { CONVERT } = await import('../../src/cli/commands/data.js');
  const advised = e.stderr.match(/--[a-z-]+/g) ?? [];
  assert.ok(advised.length >= 2, e.stderr);
  for (const f of advised)
    assert.ok(f.slice(2) in CONVERT.options, `the advice names ${f}, which convert does not take`);
  // the new spelling keeps the post text-only; the deprecated one may not be combined with it
  const keep = runCli(['data', 'convert', '--format', 'mvsa-single', dir, '--out', out, '--missing-image', 'keep']);
  assert.equal(keep.status, 0, keep.stderr);
  assert.equal(readJsonl(out).find((p) => p.id === '5')?.image, null);
  assert.doesNotMatch(keep.stderr, /posts skipped/);
  const both = runCli([
    'data',
    'convert',
    '--format',
    'mvsa-single',
    dir,
    '--out',
    out,
    '--missing-image',
    'keep',
    '--on-missing-image',
    'keep',
  ]);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /--on-missing-image is the deprecated spelling of --missing-image/);
});
