// A study end to end with tiny random-weight ViLTs on synthetic posts: 2 objective settings × 3 seeds run, are
// killed with kill -9 in the middle of a run, run again and complete without retraining finished runs; the
// report's numbers equal those recomputed from each results.json; the HTML report renders in a real headless
// browser; two concurrent `study run` processes never train the same run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import type { StudyReport } from '../../src/study/report.js';

const tmp = mkdtempSync(join(tmpdir(), 'tandem-study-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const VILT = join(REPO_ROOT, 'examples', 'tiny-models', 'vilt');

const synth = runCli([
  'data',
  'synth',
  '--out',
  join(tmp, 'synth'),
  '--count',
  '160',
  '--size',
  '32',
  '--colours',
  '2',
  '--style',
  'plain',
  '--match-rate',
  '0.7',
  '--seed',
  '3',
]);
assert.equal(synth.status, 0, synth.stderr);

function writeSpec(name: string, epochs: number, seeds: number[]): string {
  const f = join(tmp, `${name}.yaml`);
  writeFileSync(
    f,
    `datasets:
  - { name: synth, data: ./synth/posts.jsonl }
models:
  - { name: tiny-vilt, options: { model: ${VILT}, init: random, head: mlp, max-length: 16 } }
objectives: [ce, ce+itc]
seeds: [${seeds.join(', ')}]
train: { epochs: ${epochs}, lr: 4e-3, batch-size: 16, schedule: constant, save-every: 2, patience: 0 }
report: { split: test, metrics: [f1_weighted, f1_macro, accuracy], resamples: 200 }
`,
  );
  return f;
}

function cliArgs(): string[] {
  return [join(REPO_ROOT, 'dist', 'src', 'cli', 'run.js')];
}

/** Every file of a run folder (following no links) with its hash and mtime. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile())
        out.set(p, `${createHash('sha256').update(readFileSync(p)).digest('hex')} ${statSync(p).mtimeMs}`);
    }
  };
  walk(dir);
  return out;
}

const study = join(tmp, 'study');
// the run folders (the study's own files for each run, <run>.lock, .log, .failed.json, lie beside them)
const runsOf = () =>
  readdirSync(join(study, 'runs'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
const done = (id: string) => existsSync(join(study, 'runs', id, 'results.json'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a study killed with kill -9 mid-run completes when run again, finished runs untouched', async () => {
  const spec = writeSpec('study', 3, [1, 2, 3]);
  // its own process group, so that kill -9 of the group takes the study and its training child at once
  const child = spawn(process.execPath, [...cliArgs(), 'study', 'run', spec, '--out', study], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b));
  const exited = new Promise((res) => child.on('close', res));
  // wait for: at least two runs finished and a third with a checkpoint but no results yet
  let victim: string | null = null;
  for (let i = 0; i < 3000 && !victim; i++) {
    await sleep(20);
    if (!existsSync(join(study, 'runs'))) continue;
    const ids = runsOf();
    if (ids.filter(done).length >= 2)
      victim = ids.find((id) => !done(id) && existsSync(join(study, 'runs', id, 'last'))) ?? null;
  }
  assert.ok(victim, `no run was caught mid-way: ${stderr}`);
  process.kill(-child.pid!, 'SIGKILL');
  await exited;
  assert.ok(!done(victim), 'killed before it finished');
  const finished = runsOf().filter(done);
  const before = new Map(finished.map((id) => [id, snapshot(join(study, 'runs', id))]));

  // the training child dies with its group, a moment after the study process
  type Status = { counts: Record<string, number>; runs: { id: string; state: string }[] };
  let st: Status | null = null;
  for (let i = 0; i < 50; i++) {
    const status = runCli(['study', 'status', study, '--json']);
    assert.equal(status.status, 0, status.stderr);
    st = JSON.parse(status.stdout) as Status;
    if (st.runs.find((r) => r.id === victim)!.state !== 'running') break;
    await sleep(100);
  }
  st = st!;
  assert.equal(st.runs.find((r) => r.id === victim)!.state, 'interrupted');
  assert.equal(st.counts.done, finished.length);
  assert.equal(st.runs.length, 6);

  const again = runCli(['study', 'run', spec, '--out', study, '--jobs', '2'], { timeoutMs: 600_000 });
  assert.equal(again.status, 0, again.stderr);
  // --jobs 2: two runs at once, the threads divided between them
  const threads = Math.max(1, Math.floor((Number(process.env.TANDEM_NUM_THREADS) || availableParallelism()) / 2));
  assert.match(again.stderr, new RegExp(`: (training|resuming) \\(${threads} threads?\\)`));
  assert.match(again.stdout, new RegExp(`trained ${6 - finished.length}, already done ${finished.length}, `));
  assert.match(again.stderr, new RegExp(`${victim.replace(/[+]/g, '\\+')}: resuming`));
  assert.match(readFileSync(join(study, 'runs', `${victim}.log`), 'utf8'), /resuming .* at step [1-9]/);
  for (const [id, snap] of before) assert.deepEqual(snapshot(join(study, 'runs', id)), snap, `${id} was retrained`);
  assert.equal(runsOf().filter(done).length, 6);

  // the saved predictions are the final evaluation's: their accuracy is results.json's
  for (const id of runsOf()) {
    const res = JSON.parse(readFileSync(join(study, 'runs', id, 'results.json'), 'utf8'));
    for (const split of ['dev', 'test']) {
      const preds = readFileSync(join(study, 'runs', id, `predictions-${split}.jsonl`), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(preds.length, res.data[split]);
      const acc = preds.filter((p) => p.gold === p.predicted).length / preds.length;
      assert.ok(Math.abs(acc - res[split].accuracy) < 1e-12, `${id} ${split}: ${acc} vs ${res[split].accuracy}`);
      for (const p of preds)
        assert.ok(
          Math.abs(Object.values(p.probabilities as Record<string, number>).reduce((a, b) => a + b) - 1) < 1e-5,
        );
    }
  }
});

test("the report's means and standard deviations equal those recomputed from each run's results.json", () => {
  const r = runCli(['study', 'report', study, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as StudyReport;
  assert.equal(report.cells.length, 2 * 3);
  for (const c of report.cells) {
    const values = [1, 2, 3].map(
      (seed) =>
        JSON.parse(
          readFileSync(join(study, 'runs', `synth__tiny-vilt__${c.objectives}__seed${seed}`, 'results.json'), 'utf8'),
        ).test[c.metric] as number,
    );
    const mean = values.reduce((a, b) => a + b) / 3;
    const sd = Math.sqrt(values.reduce((a, x) => a + (x - mean) ** 2, 0) / 2);
    assert.ok(Math.abs(c.mean! - mean) < 1e-12, `${c.objectives} ${c.metric} mean`);
    assert.ok(Math.abs(c.sd! - sd) < 1e-12, `${c.objectives} ${c.metric} sd`);
    assert.equal(c.n, 3);
    if (c.objectives === 'ce') assert.equal(c.p_value, null);
    else {
      const ce = report.cells.find((x) => x.objectives === 'ce' && x.metric === c.metric)!;
      assert.ok(Math.abs(c.delta_vs_ce! - (c.mean! - ce.mean!)) < 1e-12);
      const testPosts = JSON.parse(
        readFileSync(join(study, 'runs', 'synth__tiny-vilt__ce__seed1', 'results.json'), 'utf8'),
      ).data.test as number;
      assert.ok(c.p_value! > 0 && c.p_value! <= 1 && c.pooled_posts === 3 * testPosts);
    }
  }
  const md = runCli(['study', 'report', study]);
  assert.equal(md.status, 0, md.stderr);
  assert.match(md.stdout, /\| synth \| tiny-vilt \| \d\.\d{4} ± \d\.\d{4} \(n=3\) \|/);
  assert.match(md.stdout, /paired-bootstrap test against CE \(200 resamples/);
  assert.match(md.stdout, /extra\.shape/);
  // image-text similarity terciles from the ITC model's saved cosines, each post in one bucket
  const sim = report.slices.filter((s) => s.slice === 'image-text similarity (ce+itc seed 1)');
  assert.equal(sim.length, 3, JSON.stringify(report.slices.map((s) => s.slice)));
  const testPosts = JSON.parse(readFileSync(join(study, 'runs', 'synth__tiny-vilt__ce__seed1', 'results.json'), 'utf8'))
    .data.test as number;
  assert.equal(
    sim.reduce((a, s) => a + s.posts, 0),
    testPosts,
  );
});

test('the HTML report in headless chromium: no console errors, every chart a non-empty SVG, numbers = JSON', async (t) => {
  const html = join(tmp, 'report.html');
  const r = runCli(['study', 'report', study, '--json', '--html', html]);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as StudyReport;
  const text = readFileSync(html, 'utf8');
  assert.ok(!/\b(src|href)="https?:/.test(text), 'nothing fetched at view time');
  if (!existsSync('/usr/bin/chromium')) {
    t.skip('/usr/bin/chromium is absent (apt-get install chromium; scripts/setup.sh installs it)');
    return;
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (req) => {
      if (!req.url().startsWith('file:')) errors.push(`fetched ${req.url()}`);
    });
    await page.goto(`file://${html}`);
    const charts = await page.$$eval('figure.chart', (figs) =>
      figs.map((f) => {
        const svg = f.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return {
          id: f.id,
          marks: svg ? svg.querySelectorAll('path, rect, line, text, circle').length : 0,
          width: box?.width ?? 0,
          height: box?.height ?? 0,
        };
      }),
    );
    assert.deepEqual(
      charts.map((c) => c.id),
      ['deltas', 'curves-loss', 'curves-dev', 'confusion', 'per-class-f1', 'slices'],
    );
    for (const c of charts) assert.ok(c.marks > 10 && c.width > 50 && c.height > 50, JSON.stringify(c));
    const shown = await page.$$eval('td[data-cell]', (tds) =>
      tds.map((td) => ({
        key: td.getAttribute('data-cell')!,
        mean: td.querySelector('.mean')!.textContent,
        sd: td.querySelector('.sd')!.textContent,
        n: td.querySelector('.n')!.textContent,
        delta: td.querySelector('.delta')?.textContent ?? null,
      })),
    );
    assert.equal(shown.length, report.cells.length);
    for (const c of report.cells) {
      const s = shown.find((x) => x.key === `${c.dataset}|${c.model}|${c.objectives}|${c.metric}`)!;
      assert.equal(s.mean, c.mean!.toFixed(4));
      assert.equal(s.sd, c.sd!.toFixed(4));
      assert.equal(s.n, String(c.n));
      if (c.delta_vs_ce !== null) assert.equal(Number(s.delta), Number(c.delta_vs_ce.toFixed(4)));
    }
    const shot = join(REPO_ROOT, 'tmp', 'study-report.png');
    mkdirSync(join(REPO_ROOT, 'tmp'), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 10_000);
    console.log(`# screenshot: ${shot}`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('two concurrent `study run` processes on one folder never train the same run', async () => {
  const spec = writeSpec('concurrent', 1, [1, 2]);
  const out = join(tmp, 'concurrent');
  const start = () =>
    new Promise<{ code: number | null; stderr: string }>((res) => {
      const c = spawn(process.execPath, [...cliArgs(), 'study', 'run', spec, '--out', out], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      c.stderr.on('data', (b) => (stderr += b));
      c.on('close', (code) => res({ code, stderr }));
    });
  const [a, b] = await Promise.all([start(), start()]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const trained = (s: string) => [...s.matchAll(/study: (\S+): training/g)].map((m) => m[1]!);
  const all = [...trained(a.stderr), ...trained(b.stderr)];
  assert.equal(all.length, 4, `${a.stderr}\n${b.stderr}`);
  assert.equal(new Set(all).size, 4, 'a run trained twice');
  for (const id of all) assert.ok(existsSync(join(out, 'runs', id, 'results.json')));
  // each run folder's log has one training from step 1, not two interleaved
  for (const id of all) {
    const steps = readFileSync(join(out, 'runs', id, 'log.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).step as number);
    assert.deepEqual(
      steps,
      steps.map((_, i) => i + 1),
    );
  }
});

test('a run that fails is reported as failed with its error; a bad specification is refused naming the field', () => {
  const spec = join(tmp, 'failing.yaml');
  writeFileSync(
    spec,
    `datasets: [{ name: synth, data: ./synth/posts.jsonl }]
models: [{ name: m, options: { model: ${VILT}, init: random, fusion: banana } }]
objectives: [ce]
seeds: [1]
`,
  );
  const out = join(tmp, 'failing');
  const r = runCli(['study', 'run', spec, '--out', out]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /failed 1/);
  const st = runCli(['study', 'status', out]);
  assert.match(
    st.stdout,
    /synth__m__ce__seed1 +failed +\(exit 2: tandem train: --fusion banana: expected one of concat, attention/,
  );
  writeFileSync(spec, 'datasets: [{ name: synth, data: x }]\nmodels: [{ name: m }]\nseeds: [one]\n');
  const bad = runCli(['study', 'run', spec, '--out', out]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /failing\.yaml: seeds\[0\]: expected a non-negative integer, got "one"/);
});

test('--shard and a SLURM array index split the grid through the command: together every run, none twice', () => {
  const spec = join(tmp, 'sharded.yaml');
  // runs that fail at once (a bad flag value) make the shards cheap to check: each is attempted exactly once
  writeFileSync(
    spec,
    `datasets: [{ name: synth, data: ./synth/posts.jsonl }]
models: [{ name: m, options: { model: ${VILT}, init: random, fusion: banana } }]
objectives: [ce]
seeds: [1, 2, 3, 4, 5]
`,
  );
  const out = join(tmp, 'sharded');
  const attempted = (stderr: string) => [...stderr.matchAll(/study: (\S+): training/g)].map((m) => m[1]!);
  const a = runCli(['study', 'run', spec, '--out', out, '--shard', '1/2']);
  const b = runCli(['study', 'run', spec, '--out', out], {
    env: { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '2' },
  });
  assert.deepEqual(attempted(a.stderr), ['synth__m__ce__seed2', 'synth__m__ce__seed4']);
  assert.match(a.stdout, /\(shard 1\/2\)/);
  assert.deepEqual(attempted(b.stderr), ['synth__m__ce__seed1', 'synth__m__ce__seed3', 'synth__m__ce__seed5']);
  const st = JSON.parse(runCli(['study', 'status', out, '--json']).stdout) as { counts: Record<string, number> };
  assert.equal(st.counts.failed, 5);
});
