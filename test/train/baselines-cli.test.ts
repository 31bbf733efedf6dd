// The unimodal baselines end to end through the CLI, on synthetic posts relabelled so that one modality alone
// decides the label (the colour named by the text, or the colour of the image): `tandem train --recipe
// text-only` on posts whose image files were deleted, and `--recipe image-only` on posts with empty texts
// and an image model folder without a tokenizer, each learns its label, writes results.json and the
// predictions, and evaluates and predicts from the run folder; asking either for ITC or ITM is refused with
// exit 2 before any data is read; a study of a text-only baseline next to an image-text model with objectives
// [ce, ce+itc] runs the baseline's ce alone and reports its ce+itc cell as not applicable, and one without ce
// is refused before any run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOLDEN, runCli } from '../helpers/cli.js';
import { synthPosts } from '../helpers/train.js';

const BERT = join(GOLDEN, 'models', 'bert');
const VIT = join(GOLDEN, 'models', 'vit');
const tmp = mkdtempSync(join(tmpdir(), 'tandem-baselines-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

interface Post {
  id: string;
  text: string;
  image: string;
  label: string;
  split: string;
  extra: { image_colour: string; text_colour: string };
}

// 96 posts; with a match rate of one half the image's colour says nothing of the text's, and the reverse.
const source = synthPosts(join(tmp, 'synth'), ['--count', '96', '--match-rate', '0.5'], 5);
const posts: Post[] = readFileSync(source, 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as Post);

function writePosts(file: string, rows: object[]): string {
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

// text-only: labelled by the colour the text names, in a folder without the images (the paths still point there)
const textDir = join(tmp, 'text-only-data');
mkdirSync(textDir);
const textData = writePosts(
  join(textDir, 'posts.jsonl'),
  posts.map((p) => ({ ...p, label: p.extra.text_colour })),
);
assert.ok(!existsSync(join(textDir, posts[0]!.image)));
// image-only: labelled by the image's colour, every text empty, next to the images
const imageData = writePosts(
  join(tmp, 'synth', 'image-colour.jsonl'),
  posts.map((p) => ({ ...p, text: '', label: p.extra.image_colour })),
);

const TRAIN = ['--init', 'random', '--no-progress', '--batch-size', '8', '--lr', '3e-3', '--seed', '1', '--json'];
const accuracy = (r: { accuracy: number }) => r.accuracy;

function results(run: string) {
  return JSON.parse(readFileSync(join(run, 'results.json'), 'utf8'));
}

function predictions(file: string): { id: string; gold: string; predicted: string; probabilities: object }[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

/** evaluate on dev equals the run's own dev evaluation of its best checkpoint; returns the JSON output. */
function evaluateDev(run: string, data: string) {
  const ev = runCli(['evaluate', '--run', run, '--data', data, '--split', 'dev', '--json']);
  assert.equal(ev.status, 0, ev.stderr);
  const out = JSON.parse(ev.stdout);
  const r = results(run);
  assert.equal(out.n, r.data.dev);
  assert.ok(Math.abs(out.metrics.f1_macro - r.dev.f1_macro) < 1e-9, `${out.metrics.f1_macro} vs ${r.dev.f1_macro}`);
  return out;
}

const textRun = join(tmp, 'text-run');
const imageRun = join(tmp, 'image-run');

test('text-only trains on posts whose images were deleted, learns the text, evaluates and predicts', () => {
  // no --aux: a one-modality recipe defaults to CE alone
  const t = runCli(
    [
      'train',
      '--recipe',
      'text-only',
      '--text-model',
      BERT,
      '--data',
      textData,
      '--out',
      textRun,
      '--epochs',
      '4',
    ].concat(TRAIN),
    { timeoutMs: 600_000 },
  );
  assert.equal(t.status, 0, t.stderr);
  const r = results(textRun);
  assert.equal(r.status, 'finished');
  assert.equal(r.recipe, 'text-only');
  assert.deepEqual(r.labels, ['green', 'red']);
  assert.deepEqual(r.data.bad_rows, {});
  assert.equal(r.data.train + r.data.dev + r.data.test, posts.length);
  const log = readFileSync(join(textRun, 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(log.length > 0 && log.every((s) => s.itc === undefined && s.itm === undefined && Number.isFinite(s.ce)));
  console.log(`text-only: dev accuracy ${accuracy(r.dev).toFixed(3)}, test ${accuracy(r.test).toFixed(3)}`);
  assert.ok(accuracy(r.test) >= 0.9, `test accuracy ${accuracy(r.test)}`);
  // the run folder's checkpoints carry the tokenizer and no image processor
  assert.ok(existsSync(join(textRun, 'best', 'tokenizer.json')));
  assert.ok(!existsSync(join(textRun, 'best', 'preprocessor_config.json')));
  const saved = predictions(join(textRun, 'predictions-test.jsonl'));
  assert.equal(saved.length, r.data.test);
  assert.ok(saved.every((p) => !('similarity' in p)));
  evaluateDev(textRun, textData);
  // one post: its text alone; an image does not apply
  const one = runCli(['predict', '--run', textRun, '--text', 'red circle', '--json']);
  assert.equal(one.status, 0, one.stderr);
  assert.equal(JSON.parse(one.stdout).label, 'red');
  const withImage = runCli(['predict', '--run', textRun, '--text', 'red circle', '--image', source]);
  assert.equal(withImage.status, 2);
  assert.match(withImage.stderr, /--image does not apply: .*\(recipe text-only\) reads only the text of a post/);
  const many = runCli(['predict', '--run', textRun, '--input', textData, '--json']);
  assert.equal(many.status, 0, many.stderr);
  const lines = many.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, posts.length);
  const right = lines.filter((p, i) => p.label === posts[i]!.extra.text_colour).length;
  assert.ok(right / lines.length >= 0.9, `${right}/${lines.length} right`);
  // serving takes a text and an image per post: a one-modality run is refused, saying so
  const serve = runCli(['serve', '--run', textRun, '--port', '0']);
  assert.equal(serve.status, 2, serve.stderr);
  assert.match(
    serve.stderr,
    /recipe text-only reads only the text of a post; serving one-modality runs is not supported yet/,
  );
});

test('image-only trains without a tokenizer on posts with empty texts, learns the image, evaluates and predicts', () => {
  assert.ok(!existsSync(join(VIT, 'tokenizer.json')));
  const t = runCli(
    [
      'train',
      '--recipe',
      'image-only',
      '--image-model',
      VIT,
      '--data',
      imageData,
      '--out',
      imageRun,
      '--epochs',
      '3',
    ].concat(TRAIN),
    { timeoutMs: 600_000 },
  );
  assert.equal(t.status, 0, t.stderr);
  const r = results(imageRun);
  assert.equal(r.status, 'finished');
  assert.equal(r.recipe, 'image-only');
  assert.deepEqual(r.data.bad_rows, {});
  console.log(`image-only: dev accuracy ${accuracy(r.dev).toFixed(3)}, test ${accuracy(r.test).toFixed(3)}`);
  assert.ok(accuracy(r.test) >= 0.9, `test accuracy ${accuracy(r.test)}`);
  assert.ok(existsSync(join(imageRun, 'best', 'preprocessor_config.json')));
  assert.equal(predictions(join(imageRun, 'predictions-test.jsonl')).length, r.data.test);
  evaluateDev(imageRun, imageData);
  const red = posts.find((p) => p.extra.image_colour === 'red')!;
  const one = runCli(['predict', '--run', imageRun, '--image', join(tmp, 'synth', red.image), '--json']);
  assert.equal(one.status, 0, one.stderr);
  assert.equal(JSON.parse(one.stdout).label, 'red');
  const withText = runCli(['predict', '--run', imageRun, '--text', 'red', '--image', join(tmp, 'synth', red.image)]);
  assert.equal(withText.status, 2);
  assert.match(withText.stderr, /--text does not apply: .*\(recipe image-only\) reads only the image of a post/);
});

test('ITC or ITM asked of a one-modality recipe: exit 2 naming the recipe and objective, before any data is read', () => {
  const missing = join(tmp, 'no-such-data', 'posts.jsonl');
  for (const [recipe, folder, modality] of [
    ['text-only', ['--text-model', BERT], 'text'],
    ['image-only', ['--image-model', VIT], 'image'],
  ] as const)
    for (const [aux, asked] of [
      ['itc', 'ITC pairs'],
      ['itm', 'ITM pairs'],
      ['itc,itm', 'ITC and ITM pair'],
    ]) {
      const out = join(tmp, `refused-${recipe}-${aux}`);
      const r = runCli([
        'train',
        '--recipe',
        recipe,
        ...folder,
        '--data',
        missing,
        '--out',
        out,
        '--aux',
        aux!,
        ...TRAIN,
      ]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`recipe ${recipe} reads only the ${modality} of each post: ${asked} a text with an image`),
      );
      assert.doesNotMatch(r.stderr, /no-such-data/); // refused before the data was looked at
      assert.ok(!existsSync(out), 'nothing written');
    }
});

test('a study of a text-only baseline next to an image-text model with [ce, ce+itc]: the baseline runs ce alone, its itc cell not applicable; without ce it is refused', () => {
  const spec = (objectives: string) =>
    `datasets:
  - { name: colours, data: ${source} }
models:
  - { name: text-base, options: { recipe: text-only, text-model: ${BERT}, init: random } }
  - { name: fusion, options: { text-model: ${BERT}, image-model: ${VIT}, init: random } }
objectives: [${objectives}]
seeds: [1]
train: { epochs: 1, lr: 3e-3, batch-size: 8, no-progress: true }
report: { split: test, metrics: [accuracy], resamples: 50 }
`;
  const bad = join(tmp, 'bad-study.yaml');
  writeFileSync(bad, spec('ce+itc'));
  const badDir = join(tmp, 'bad-study');
  const refused = runCli(['study', 'run', bad, '--out', badDir]);
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(
    refused.stderr,
    /models\[0\] 'text-base': recipe text-only reads only the text of each post, so none of the objective settings \(ce\+itc\) applies to it and it would have no run/,
  );
  assert.ok(!existsSync(join(badDir, 'runs')), 'no run started');
  const good = join(tmp, 'study.yaml');
  writeFileSync(good, spec('ce, ce+itc'));
  const dir = join(tmp, 'study');
  const ran = runCli(['study', 'run', good, '--out', dir], { timeoutMs: 600_000 });
  assert.equal(ran.status, 0, ran.stderr);
  assert.match(ran.stdout, /^trained 3, .*failed 0; 1 not applicable \(one-modality models: no ITC\/ITM runs\)$/m);
  // the baseline's ce+itc cell is never trained: no folder, no lock, no log (the study's files for a run
  // sit beside its folder: <run>.log, <run>.lock)
  const entries = readdirSync(join(dir, 'runs'), { withFileTypes: true });
  assert.deepEqual(
    entries
      .filter((e) => !e.isDirectory())
      .map((e) => e.name)
      .sort(),
    ['colours__fusion__ce+itc__seed1.log', 'colours__fusion__ce__seed1.log', 'colours__text-base__ce__seed1.log'],
  );
  assert.deepEqual(
    entries
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort(),
    ['colours__fusion__ce+itc__seed1', 'colours__fusion__ce__seed1', 'colours__text-base__ce__seed1'],
  );
  const st = runCli(['study', 'status', dir, '--json']);
  assert.equal(st.status, 0, st.stderr);
  const status = JSON.parse(st.stdout);
  assert.deepEqual(status.counts, {
    done: 3,
    running: 0,
    failed: 0,
    interrupted: 0,
    pending: 0,
    'not applicable': 1,
  });
  assert.deepEqual(
    status.not_applicable.map((c: { id: string }) => c.id),
    ['colours__text-base__ce+itc__seed1'],
  );
  assert.match(runCli(['study', 'status', dir]).stdout, /3 runs: 3 done, .*0 pending; 1 not applicable/);
  const run = join(dir, 'runs', 'colours__text-base__ce__seed1');
  assert.equal(results(run).status, 'finished');
  const html = join(tmp, 'study-report.html');
  const rep = runCli(['study', 'report', dir, '--json', '--html', html]);
  assert.equal(rep.status, 0, rep.stderr);
  const report = JSON.parse(rep.stdout);
  assert.deepEqual(report.runs, { total: 3, done: 3, missing: [], not_applicable: 1 });
  type Cell = {
    model: string;
    objectives: string;
    mean: number | null;
    n: number;
    p_value: number | null;
    not_applicable: string | null;
  };
  const cells = report.cells as Cell[];
  const cell = (m: string, o: string) => cells.find((c) => c.model === m && c.objectives === o)!;
  assert.equal(cells.length, 4);
  assert.equal(cell('text-base', 'ce').n, 1);
  assert.ok(Math.abs(cell('text-base', 'ce').mean! - results(run).test.accuracy) < 1e-9);
  assert.equal(cell('text-base', 'ce').not_applicable, null);
  assert.deepEqual(cell('text-base', 'ce+itc'), {
    dataset: 'colours',
    model: 'text-base',
    objectives: 'ce+itc',
    metric: 'accuracy',
    mean: null,
    sd: null,
    n: 0,
    values: [],
    delta_vs_ce: null,
    p_value: null,
    p_holm: null,
    pooled_delta: null,
    ci: null,
    pooled_posts: null,
    not_applicable:
      'one modality: recipe text-only reads only the text of each post, and ce+itc pairs a text with an image',
  });
  // the one paired test is the image-text model's ce+itc against its own ce
  assert.deepEqual(
    cells.filter((c) => c.p_value !== null).map((c) => `${c.model} ${c.objectives}`),
    ['fusion ce+itc'],
  );
  const md = runCli(['study', 'report', dir]);
  assert.equal(md.status, 0, md.stderr);
  assert.match(md.stdout, /\| colours \| text-base \| \d\.\d{4} ± – \(n=1\) \| n\/a: one modality \|/);
  assert.doesNotMatch(md.stdout, /unfinished/);
  const csv = runCli(['study', 'report', dir, '--format', 'csv']);
  assert.match(csv.stdout, /\ncolours,text-base,ce\+itc,accuracy,,,0,,,,,,"one modality: recipe text-only/);
  assert.match(
    readFileSync(html, 'utf8'),
    /<td data-cell="colours\|text-base\|ce\+itc\|accuracy" class="na" title="one modality: [^"]*"><span class="not-applicable">n\/a: one modality<\/span><\/td>/,
  );
});
