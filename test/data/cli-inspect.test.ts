import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
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
import { put } from './helpers.js';

function inspectJson(format: string, dir: string, ...more: string[]): Record<string, any> {
  const r = runCli(['data', 'inspect', '--format', format, dir, '--json', ...more]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const CASES: [string, () => string, Record<string, unknown>][] = [
  [
    'mvsa-single',
    buildMvsaSingle,
    {
      total: 4,
      splits: { train: 4 },
      labels: { positive: 2, negative: 2 },
      missing_images: 1,
      bad_rows: { 'missing-image': 1 },
      dropped: { 'text-image-conflict': 1, 'missing-text': 1, 'duplicate-id': 1 },
    },
  ],
  [
    'mvsa-multiple',
    buildMvsaMultiple,
    {
      total: 2,
      splits: { train: 2 },
      labels: { positive: 1, negative: 1 },
      missing_images: 0,
      dropped: { 'text-image-conflict': 1, 'no-majority': 1 },
    },
  ],
  [
    'msd',
    buildMsd,
    {
      total: 5,
      splits: { train: 2, dev: 2, test: 1 },
      labels: { sarcastic: 3, 'non-sarcastic': 2 },
      missing_images: 1,
      bad_rows: { 'missing-image': 1 },
      dropped: { 'sarcasm-keyword': 1, 'duplicate-id': 1 },
    },
  ],
  [
    'mmsd2',
    buildMmsd2,
    {
      total: 3,
      splits: { train: 1, dev: 1, test: 1 },
      labels: { 'non-sarcastic': 2, sarcastic: 1 },
      missing_images: 1,
      bad_rows: { 'missing-image': 1 },
      dropped: {},
    },
  ],
  [
    'tir',
    buildTir,
    {
      total: 4,
      splits: { train: 2, dev: 1, test: 1 },
      labels: {
        image_adds_text_repr: 1,
        image_adds_text_notrepr: 1,
        image_notadds_text_repr: 1,
        image_notadds_text_notrepr: 1,
      },
      missing_images: 1,
      bad_rows: { 'missing-image': 1 },
      dropped: { 'malformed-id': 1, 'inconsistent-label': 1 },
    },
  ],
  [
    'mhp',
    buildMhp,
    {
      total: 3,
      splits: { train: 2, dev: 1 },
      labels: { '2': 1, '0': 1, '3': 1 },
      missing_images: 1,
      bad_rows: { 'missing-image': 1 },
      dropped: { unlabelled: 1 },
    },
  ],
  [
    'micd',
    buildMicd,
    {
      total: 2,
      splits: { train: 1, dev: 1 },
      labels: { commercial: 1, 'not-commercial': 1 },
      missing_images: 1,
      bad_rows: { 'missing-image': 1 },
      dropped: {},
    },
  ],
  [
    'hateful-memes',
    buildHatefulMemes,
    {
      total: 4,
      splits: { train: 2, dev: 1, test: 1 },
      labels: { 'not-hateful': 1, hateful: 3 },
      missing_images: 1,
      bad_rows: { 'missing-image': 1 },
      dropped: {},
    },
  ],
  [
    'mmhs150k',
    buildMmhs,
    {
      total: 3,
      splits: { train: 2, dev: 1 },
      labels: { hate: 2, 'not-hate': 1 },
      missing_images: 1,
      bad_rows: { 'missing-image': 1 },
      dropped: { 'missing-annotation': 1, 'not-in-split': 1 },
    },
  ],
  [
    'paper-key',
    buildPaperKey,
    {
      total: 3,
      splits: { train: 1, dev: 1, test: 1 },
      labels: { '1': 1, '0': 2 },
      missing_images: 1,
      bad_rows: { 'missing-image': 1 },
      dropped: {},
    },
  ],
  [
    'generic',
    buildGenericLeaky,
    { total: 5, splits: { train: 3, dev: 1, test: 1 }, labels: { pos: 2, neg: 3 }, missing_images: 0, dropped: {} },
  ],
];

test('inspect --json on every format: total, splits, labels, missing images, dropped', () => {
  for (const [format, build, want] of CASES) {
    const got = inspectJson(format, build());
    for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, `${format}: ${k}`);
    assert.equal(got.format, format);
  }
});

test('inspect finds duplicate texts and images across splits, unreadable images, empty texts', () => {
  const dir = buildGenericLeaky();
  const got = inspectJson('generic', dir);
  assert.deepEqual(got.duplicates.texts, {
    groups: 1,
    posts: 2,
    across_splits: 1,
    examples: [{ ids: ['a', 'b'], splits: ['test', 'train'] }],
  });
  assert.deepEqual(got.duplicates.images, {
    groups: 1,
    posts: 2,
    across_splits: 1,
    examples: [{ ids: ['a', 'c'], splits: ['dev', 'train'] }],
  });
  assert.equal(got.unreadable_images, 1);
  assert.deepEqual(got.image_problems, [
    {
      id: 'd',
      image: join(dir, 'img', 'bad.jpg'),
      reason: 'unknown-format',
      detail: 'an HTML page (a saved error or login page?), not an image',
    },
  ]);
  assert.deepEqual(got.image_formats, { png: 3 });
  assert.equal(got.text_length.empty, 1);
  // chars: 29, 31, 8, 8, 0 -> sorted 0, 8, 8, 29, 31
  assert.deepEqual(got.text_length.chars, { min: 0, max: 31, mean: 15.2, median: 8, p95: 31 });
  assert.deepEqual(got.labels_by_split, { train: { pos: 1, neg: 2 }, test: { neg: 1 }, dev: { pos: 1 } });
});

test('inspect on MVSA-Single finds the duplicate post (same text up to case, spacing and t.co link) and the legacy encoding', () => {
  const got = inspectJson('mvsa-single', buildMvsaSingle());
  assert.deepEqual(got.duplicates.texts, { groups: 1, posts: 2, across_splits: 0, examples: [] });
  assert.deepEqual(got.encodings, { 'utf-8': 3, 'windows-1252': 1 });
  assert.equal(got.split.kind, 'seeded');
  assert.match(got.notes.join('\n'), /not saved; would be .*tandem-split-mvsa-single-seed42\.json/);
});

test('inspect with --missing-image keep counts the kept posts; the text report names the same numbers', () => {
  const dir = buildMsd();
  const got = inspectJson('msd', dir, '--missing-image', 'keep');
  assert.equal(got.total, 6);
  assert.equal(got.kept_without_image, 1);
  assert.equal(got.missing_images, 1);
  assert.deepEqual(got.dropped, { 'sarcasm-keyword': 1, 'duplicate-id': 1 });
  const text = runCli(['data', 'inspect', '--format', 'msd', dir]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /posts kept: 5\n/);
  assert.match(text.stdout, /images missing: 1, unreadable: 0/);
  assert.match(text.stdout, /sarcasm-keyword {2}1/);
});

test('bad input exits 2 naming the problem: path traversal, truncated label file, unknown format, missing folder', () => {
  const hm = buildHatefulMemes();
  put(join(hm, 'dev_seen.jsonl'), '{"id": 2, "img": "../../etc/passwd", "label": 0, "text": "b"}\n');
  let r = runCli(['data', 'inspect', '--format', 'hateful-memes', hm, '--json']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /dev_seen\.jsonl:1 field 'img': path '\.\.\/\.\.\/etc\/passwd' leaves the dataset folder/);
  assert.equal(r.stdout, '');
  const mv = buildMvsaSingle();
  put(join(mv, 'labelResultAll.txt'), 'ID\ttext,image\n1\tpositive,positive\n2\tpositive');
  r = runCli(['data', 'inspect', '--format', 'mvsa-single', mv]);
  assert.equal(r.status, 2);
  assert.match(
    r.stderr,
    /labelResultAll\.txt:3: expected 'text_label,image_label' with labels positive\/neutral\/negative, found 'positive' \(truncated line\?\)/,
  );
  r = runCli(['data', 'inspect', '--format', 'nope', mv]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--format nope: expected one of mvsa-single, /);
  r = runCli(['data', 'inspect', mv]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--format is required/);
  r = runCli(['data', 'inspect', '--format', 'msd', join(mv, 'does-not-exist')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /does-not-exist: not found \(expected the msd dataset folder\)/);
  r = runCli(['data', 'inspect', '--format', 'tir', '--variant', 'six-way', mv]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--variant 'six-way' is not one of tir's: tir, image-adds, text-repr/);
});

test('data formats lists every format with its variants; data --help exits 0, data alone exits 2', () => {
  const r = runCli(['data', 'formats', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(got), [
    'mvsa-single',
    'mvsa-multiple',
    'msd',
    'mmsd2',
    'tir',
    'mhp',
    'micd',
    'hateful-memes',
    'mmhs150k',
    'paper-key',
    'generic',
  ]);
  assert.deepEqual(got.mmhs150k.variants, ['binary', 'six-way']);
  assert.equal(runCli(['data', '--help']).status, 0);
  assert.equal(runCli(['data']).status, 2);
  const sub = runCli(['data', 'explode']);
  assert.equal(sub.status, 2);
  assert.match(sub.stderr, /unknown subcommand 'explode'/);
});
