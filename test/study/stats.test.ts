// The study report's statistics against known answers, on study folders built from constructed results and
// predictions (no training): identical systems, a system better on every post, Holm on a textbook example,
// means and standard deviations, and the alignment of posts by id across runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { holm } from '../../src/eval/index.js';
import { validateSpec } from '../../src/study/spec.js';
import { expandGrid } from '../../src/study/grid.js';
import { saveSpec } from '../../src/study/runner.js';
import { buildReport, formatReport } from '../../src/study/report.js';

const readText = (f: string) => readFileSync(f, 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'tandem-stats-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

test("Holm's correction on a textbook example (Holm 1979 style; as R's p.adjust(method = 'holm'))", () => {
  // p = 0.01, 0.04, 0.03, 0.005: sorted 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 -> 0.06
  const adj = holm([0.01, 0.04, 0.03, 0.005]);
  const expected = [0.03, 0.06, 0.06, 0.02];
  adj.forEach((p, i) => assert.ok(Math.abs(p - expected[i]!) < 1e-12, `${p} vs ${expected[i]}`));
  assert.deepEqual(holm([0.5, 0.9]), [1, 1]); // capped at 1
  assert.ok(Number.isNaN(holm([NaN, 0.2])[0]!));
  assert.equal(holm([NaN, 0.2])[1], 0.2); // NaN is not a hypothesis
});

type Gold = string[];
/** A study folder with one dataset, one model, settings ce and ce+itc, and constructed predictions. */
function fakeStudy(
  name: string,
  gold: Gold,
  predicted: Record<string, Record<number, string[]>>,
  resamples: number,
): string {
  const dir = join(tmp, name);
  const spec = validateSpec(
    {
      datasets: [{ name: 'd', data: join(tmp, 'none') }],
      models: [{ name: 'm' }],
      objectives: ['ce', 'ce+itc'],
      seeds: [1, 2, 3],
      report: { metrics: ['accuracy', 'f1_macro'], resamples },
    },
    tmp,
  );
  saveSpec(dir, spec);
  for (const r of expandGrid(spec, dir)) {
    mkdirSync(r.dir, { recursive: true });
    const pred = predicted[r.objectives]![r.seed]!;
    const shift = r.seed + (r.objectives === 'ce' ? 0 : 5);
    // the posts in a different order in each run (seed and setting): the report must join them by id
    const order = gold
      .map((_, i) => i)
      .sort((a, b) => ((a * 7 + shift) % gold.length) - ((b * 7 + shift) % gold.length));
    writeFileSync(
      join(r.dir, 'predictions-test.jsonl'),
      order
        .map((i) =>
          JSON.stringify({
            id: `p${i}`,
            gold: gold[i],
            predicted: pred[i],
            probabilities: { a: pred[i] === 'a' ? 1 : 0, b: pred[i] === 'b' ? 1 : 0 },
          }),
        )
        .join('\n') + '\n',
    );
    const acc = pred.filter((p, i) => p === gold[i]).length / gold.length;
    writeFileSync(
      join(r.dir, 'results.json'),
      JSON.stringify({ test: { accuracy: acc, f1_macro: acc / 2 + r.seed / 100 } }),
    );
  }
  return dir;
}

const N = 40;
const gold = Array.from({ length: N }, (_, i) => (i % 2 ? 'a' : 'b'));
const flip = (l: string) => (l === 'a' ? 'b' : 'a');
// CE: wrong on every fourth post (seed-dependent shift), so its predictions differ by seed
const ce = (seed: number) => gold.map((g, i) => ((i + seed) % 4 === 0 ? flip(g) : g));

test('identical systems: p = 1 for every cell, difference 0', () => {
  const preds = { ce: { 1: ce(1), 2: ce(2), 3: ce(3) }, 'ce+itc': { 1: ce(1), 2: ce(2), 3: ce(3) } };
  const r = buildReport(fakeStudy('same', gold, preds, 199));
  const tested = r.cells.filter((c) => c.objectives === 'ce+itc');
  assert.equal(tested.length, 2);
  for (const c of tested) {
    assert.equal(c.p_value, 1);
    assert.equal(c.p_holm, 1);
    assert.equal(c.delta_vs_ce, 0);
    assert.equal(c.pooled_posts, 3 * N);
  }
  for (const c of r.cells.filter((x) => x.objectives === 'ce')) assert.equal(c.p_value, null);
});

test('a system right on every post where CE is wrong on a quarter: p = 1/(R+1) with R = 999 resamples stated', () => {
  const preds = { ce: { 1: ce(1), 2: ce(2), 3: ce(3) }, 'ce+itc': { 1: gold, 2: gold, 3: gold } };
  for (const test of ['bootstrap', 'randomization'] as const) {
    const dir = fakeStudy(`better-${test}`, gold, preds, 999);
    const spec = JSON.parse(readText(join(dir, 'study.json')));
    spec.report.test = test;
    writeFileSync(join(dir, 'study.json'), JSON.stringify(spec));
    const r = buildReport(dir);
    assert.equal(r.test.resamples, 999);
    assert.equal(r.test.name, test === 'bootstrap' ? 'paired-bootstrap' : 'approximate-randomization');
    const c = r.cells.find((x) => x.objectives === 'ce+itc' && x.metric === 'accuracy')!;
    assert.equal(c.p_value, 1 / 1000, test);
    // two tested cells: Holm doubles the smaller p
    assert.equal(c.p_holm, 2 / 1000);
    assert.ok(Math.abs(c.pooled_delta! - 0.25) < 1e-12);
    assert.ok(c.ci![0] > 0, `interval ${c.ci} above 0`);
    assert.match(formatReport(r, 'markdown'), /\+0\.2500\*/);
    assert.match(formatReport(r, 'markdown'), /999 resamples/);
  }
});

test('means and sample standard deviations over seeds come from results.json', () => {
  const preds = { ce: { 1: ce(1), 2: ce(2), 3: ce(3) }, 'ce+itc': { 1: gold, 2: gold, 3: gold } };
  const r = buildReport(fakeStudy('moments', gold, preds, 50));
  const c = r.cells.find((x) => x.objectives === 'ce+itc' && x.metric === 'f1_macro')!;
  // f1_macro was written as acc / 2 + seed / 100 = 0.51, 0.52, 0.53
  assert.ok(Math.abs(c.mean! - 0.52) < 1e-12);
  assert.ok(Math.abs(c.sd! - 0.01) < 1e-12);
  assert.equal(c.n, 3);
  const csv = formatReport(r, 'csv').split('\n');
  assert.equal(
    csv[0],
    'dataset,model,objectives,metric,mean,sd,n,delta_vs_ce,p_value,p_holm,ci_low,ci_high,not_applicable',
  );
  assert.equal(csv.length, 1 + 4);
  assert.match(formatReport(r, 'latex'), /\\begin\{tabular\}\{llrr\}/);
  // slices by label, pooled over seeds: CE is wrong where (i + seed) % 4 = 0, i.e. on label a's posts
  // (odd i) for seeds 1 and 3 and on label b's for seed 2: half of a label's 20 posts in those seeds
  const s = r.slices.filter((x) => x.slice === 'label');
  assert.deepEqual(
    s.map((x) => x.value),
    ['a', 'b'],
  );
  const expected = { a: (2 * 10) / (3 * 20), b: 10 / (3 * 20) } as Record<string, number>;
  for (const x of s) {
    assert.ok(Math.abs(x.delta - expected[x.value]!) < 1e-12, `${x.value}: ${x.delta}`);
    assert.equal(x.posts, N / 2);
    assert.ok(x.ci[0] > 0 && x.ci[1] >= x.delta, `${x.ci}`);
  }
});

test('runs that did not see the same posts are an error, not a silent comparison', () => {
  const preds = { ce: { 1: ce(1), 2: ce(2), 3: ce(3) }, 'ce+itc': { 1: gold, 2: gold, 3: gold } };
  const dir = fakeStudy('mismatch', gold, preds, 50);
  const f = join(dir, 'runs', 'd__m__ce+itc__seed2', 'predictions-test.jsonl');
  writeFileSync(f, readText(f).replace('"id":"p3"', '"id":"p999"'));
  assert.throws(
    () => buildReport(dir),
    /d\/m\/ce\+itc, seed 2: post p999 has no CE prediction: not the same test posts/,
  );
});
