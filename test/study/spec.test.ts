// The study specification: the issue's example parses as written, errors name the field, the grid expands
// into train arguments, and shards (flag or SLURM array) partition the grid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSpec, settingsOf, validateSpec, SpecError } from '../../src/study/spec.js';
import { expandGrid, notApplicableRuns, shardFrom, shardOf } from '../../src/study/grid.js';

const tmp = mkdtempSync(join(tmpdir(), 'tandem-spec-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const ISSUE_EXAMPLE = `datasets:
  - { name: mvsa, data: ./MVSA_Single, format: mvsa-single }
models:
  - { name: bertweet-vit, options: { text-model: vinai/bertweet-base, image-model: google/vit-base-patch16-224, fusion: concat } }
  - { name: vilt, options: { model: dandelin/vilt-b32-mlm, max-length: 40 } }
objectives: [ce, ce+itc, ce+itm, ce+itc+itm]
seeds: [1, 2, 3]
train: { epochs: 5, lr: 1e-5, batch-size: 16 }
report: { split: test, metrics: [f1_weighted, f1_macro] }
`;

test("the issue's example parses as written and expands to 1 × 2 × 4 × 3 runs of tandem train", () => {
  const file = join(tmp, 'study.yaml');
  writeFileSync(file, ISSUE_EXAMPLE);
  const spec = readSpec(file);
  assert.equal(spec.datasets[0]!.data, join(tmp, 'MVSA_Single'));
  assert.equal(spec.train.lr, 1e-5);
  assert.deepEqual(spec.report.metrics, ['f1_weighted', 'f1_macro']);
  const runs = expandGrid(spec, join(tmp, 'out'));
  assert.equal(runs.length, 24);
  assert.equal(new Set(runs.map((r) => r.dir)).size, 24);
  const r = runs.find((x) => x.id === 'mvsa__vilt__ce+itm__seed2')!;
  assert.deepEqual(r.args, [
    '--data',
    join(tmp, 'MVSA_Single'),
    '--format',
    'mvsa-single',
    '--epochs',
    '5',
    '--lr',
    '0.00001',
    '--batch-size',
    '16',
    '--model',
    'dandelin/vilt-b32-mlm', // not a local folder: left for train to resolve on the Hub
    '--max-length',
    '40',
    '--aux',
    'itm',
    '--seed',
    '2',
    '--out',
    join(tmp, 'out', 'runs', 'mvsa__vilt__ce+itm__seed2'),
  ]);
  assert.deepEqual(
    runs.filter((x) => x.model === 'bertweet-vit' && x.seed === 1).map((x) => x.args[x.args.indexOf('--aux') + 1]),
    ['none', 'itc', 'itm', 'itc,itm'],
  );
});

test('defaults: four objective settings, seeds 1-3, test split, weighted and macro F1', () => {
  const spec = validateSpec({ datasets: [{ name: 'd', data: 'x' }], models: [{ name: 'm' }] }, tmp);
  assert.deepEqual(spec.objectives, ['ce', 'ce+itc', 'ce+itm', 'ce+itc+itm']);
  assert.deepEqual(spec.seeds, [1, 2, 3]);
  assert.deepEqual(spec.report, {
    split: 'test',
    metrics: ['f1_weighted', 'f1_macro'],
    test: 'bootstrap',
    resamples: 1000,
  });
});

test('errors name the field and say what was expected', () => {
  const base = { datasets: [{ name: 'd', data: 'x' }], models: [{ name: 'm', options: {} }] };
  const cases: [unknown, RegExp][] = [
    [{ ...base, objectives: ['ce', 'itc'] }, /^objectives\[1\]: 'itc' is not an objective setting/],
    [{ ...base, objectives: ['ce+itc+itc'] }, /^objectives\[0\]/],
    [{ ...base, seeds: [1, 1.5] }, /^seeds\[1\]: expected a non-negative integer, got 1.5/],
    [{ ...base, models: [{ name: 'm', options: { seed: 3 } }] }, /^models\[0\]\.options\.seed: set by the study/],
    [{ ...base, models: [{ name: 'm', options: { '--lr': 3 } }] }, /^models\[0\]\.options\.--lr: not a flag name/],
    [{ ...base, train: { lr: [1] } }, /^train\.lr: expected a string, number or boolean/],
    [{ ...base, datasets: [{ name: 'a b', data: 'x' }] }, /^datasets\[0\]\.name: expected a name/],
    [{ ...base, datasets: [{ name: 'd' }] }, /^datasets\[0\]\.data: expected a path/],
    [{ ...base, models: [{ name: 'm' }, { name: 'm' }] }, /^models\[1\]\.name: the name 'm' is used twice/],
    [{ ...base, report: { metrics: ['auc'] } }, /^report\.metrics\[0\]: 'auc' is not one of accuracy/],
    [{ ...base, report: { split: 'train' } }, /^report\.split: expected test or dev/],
    [{ ...base, epochs: 3 }, /^study\.epochs: unknown field/],
    [{ ...base, models: [] }, /^models: expected a non-empty list/],
  ];
  for (const [raw, re] of cases)
    assert.throws(
      () => validateSpec(raw, tmp),
      (e: Error) => e instanceof SpecError && re.test(e.message),
      String(re),
    );
  const bad = join(tmp, 'bad.yaml');
  writeFileSync(bad, 'datasets: [\n');
  assert.throws(
    () => readSpec(bad),
    (e: Error) => e instanceof SpecError && e.message.startsWith(`${bad}: `) && /line 2/.test(e.message),
  );
});

test('shards: the union of I/N for every I is the grid, each run in exactly one; SLURM array ids map the same', () => {
  const spec = validateSpec(
    {
      datasets: [
        { name: 'd', data: 'x' },
        { name: 'e', data: 'y' },
      ],
      models: [{ name: 'm' }],
      seeds: [1, 2, 3],
    },
    tmp,
  );
  const grid = expandGrid(spec, tmp).map((r) => r.id);
  assert.equal(grid.length, 24);
  for (const n of [1, 2, 5, 7, 30]) {
    const seen: string[] = [];
    for (let i = 0; i < n; i++) seen.push(...shardOf(grid, shardFrom(`${i}/${n}`, {})));
    assert.deepEqual([...seen].sort(), [...grid].sort(), `N = ${n}`);
  }
  // an array job --array=1-4 (SLURM_ARRAY_TASK_MIN=1): task 3 is shard 2/4
  assert.deepEqual(
    shardFrom(undefined, { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '1' }),
    {
      index: 2,
      count: 4,
    },
  );
  assert.equal(shardFrom(undefined, {}), null);
  assert.deepEqual(shardFrom('1/3', { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '4' }), { index: 1, count: 3 });
  assert.throws(() => shardFrom('3/3', {}), /--shard expects I\/N with 0 <= I < N/);
  assert.throws(
    () => shardFrom(undefined, { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '4' }),
    /SLURM_ARRAY_TASK_ID/,
  );
});

test('a one-modality model with no ce setting is refused, naming the model: it would have no run', () => {
  const data = [{ name: 'd', data: 'x' }];
  // a tandem run checkpoint of the text-only recipe, given as `model`: its config.json names the recipe
  const checkpoint = join(tmp, 'text-only-checkpoint');
  mkdirSync(checkpoint, { recursive: true });
  writeFileSync(
    join(checkpoint, 'config.json'),
    JSON.stringify({ model_type: 'tandem', tandem: { recipe: 'text-only' } }),
  );
  const cases: [Record<string, unknown>, string[], RegExp][] = [
    [
      { recipe: 'text-only', 'text-model': 'bert' },
      ['ce+itm'],
      /^models\[1\] 'baseline': recipe text-only reads only the text of each post, so none of the objective settings \(ce\+itm\) applies to it and it would have no run: ITC and ITM pair a text with an image \(add ce to objectives\)$/,
    ],
    [
      { recipe: 'image-only', 'image-model': 'vit' },
      ['ce+itc', 'ce+itc+itm'],
      /^models\[1\] 'baseline': recipe image-only reads only the image of each post, so none of the objective settings \(ce\+itc, ce\+itc\+itm\) applies/,
    ],
    [{ model: checkpoint }, ['ce+itc'], /^models\[1\] 'baseline': recipe text-only reads only the text/],
    [
      { recipe: 'text-alone' },
      ['ce'],
      /^models\[1\]\.options\.recipe: "text-alone" is not supported \(supported: .*text-only/,
    ],
  ];
  for (const [options, objectives, re] of cases) {
    const models = [
      { name: 'vilt', options: { model: 'dandelin/vilt-b32-mlm' } },
      { name: 'baseline', options },
    ];
    assert.throws(
      () => validateSpec({ datasets: data, models, objectives }, tmp),
      (e: Error) => e instanceof SpecError && re.test(e.message),
      String(re),
    );
  }
  // a model's own objectives are not a field of the specification: every model takes the study's
  assert.throws(
    () =>
      validateSpec(
        { datasets: data, models: [{ name: 'text', options: { recipe: 'text-only' }, objectives: ['ce+itc'] }] },
        tmp,
      ),
    /^SpecError: models\[0\]\.objectives: unknown field \(expected name, options\)/,
  );
});

test('a text-only baseline next to an image-text model with [ce, ce+itc]: 3 runs per seed, its itc cell not applicable', () => {
  const spec = validateSpec(
    {
      datasets: [{ name: 'd', data: 'x' }],
      models: [
        { name: 'text', options: { recipe: 'text-only', 'text-model': 'bert' } },
        { name: 'vilt', options: { model: 'dandelin/vilt-b32-mlm' } },
      ],
      objectives: ['ce', 'ce+itc'],
      seeds: [1, 2],
    },
    tmp,
  );
  const runs = expandGrid(spec, join(tmp, 'out'));
  assert.deepEqual(
    runs.map((r) => `${r.id} ${r.args[r.args.indexOf('--aux') + 1]}`),
    [
      'd__text__ce__seed1 none',
      'd__text__ce__seed2 none',
      'd__vilt__ce__seed1 none',
      'd__vilt__ce__seed2 none',
      'd__vilt__ce+itc__seed1 itc',
      'd__vilt__ce+itc__seed2 itc',
    ],
  );
  for (const seed of [1, 2]) assert.equal(runs.filter((r) => r.seed === seed).length, 3);
  assert.deepEqual(
    notApplicableRuns(spec).map((c) => [c.id, c.reason]),
    [1, 2].map((seed) => [
      `d__text__ce+itc__seed${seed}`,
      'one modality: recipe text-only reads only the text of each post, and ce+itc pairs a text with an image',
    ]),
  );
  assert.deepEqual(
    spec.models.map((m) => settingsOf(spec, m)),
    [['ce'], ['ce', 'ce+itc']],
  );
  // the image-only baseline with the four default settings keeps ce alone
  const image = validateSpec(
    {
      datasets: [{ name: 'd', data: 'x' }],
      models: [{ name: 'image', options: { recipe: 'image-only', 'image-model': 'vit' } }],
    },
    tmp,
  );
  assert.deepEqual(
    expandGrid(image, tmp).map((r) => r.id),
    ['d__image__ce__seed1', 'd__image__ce__seed2', 'd__image__ce__seed3'],
  );
  assert.equal(notApplicableRuns(image).length, 9);
  // shards partition the runs only: no shard is handed a cell that does not apply
  const all = [0, 1, 2].flatMap((i) => shardOf(runs, { index: i, count: 3 }).map((r) => r.id));
  assert.deepEqual(all.sort(), runs.map((r) => r.id).sort());
});
