// The study's table and analysis, from the run folders alone (results.json and the saved predictions): mean ±
// standard deviation over seeds per cell, the difference with CE alone, a paired resampling test against CE
// on the same posts (seeds pooled: each seed's predictions are paired with CE's of the same seed) with Holm's
// correction across the table, and the change against CE by slices of the posts with bootstrap intervals.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { holm, pairedBootstrap, permutationTest } from '../eval/index.js';
import { loadDataset } from '../data/formats/index.js';
import type { Row } from '../data/rows.js';
import type { NotApplicableRun, StudyRun } from './grid.js';
import { loadStudy } from './runner.js';
import { notApplicable as whyNotApplicable, type ReportMetric, type StudySpec } from './spec.js';

export interface Prediction {
  id: string;
  gold: string | null;
  predicted: string;
  probabilities: Record<string, number>;
  /** Cosine of the post's ITC text and image embeddings under this run's model. */
  similarity?: number;
}

export interface ReportCell {
  dataset: string;
  model: string;
  objectives: string;
  metric: ReportMetric;
  mean: number | null;
  /** Sample standard deviation over seeds (n - 1); null below two seeds. */
  sd: number | null;
  /** Finished seeds. */
  n: number;
  values: number[];
  delta_vs_ce: number | null;
  /** The paired test against CE (null for CE itself or without paired predictions). */
  p_value: number | null;
  /** Holm-adjusted across every tested cell of the table. */
  p_holm: number | null;
  /** The difference with CE on the pooled posts (the tested one; close to delta_vs_ce, not equal). */
  pooled_delta: number | null;
  /** 95% bootstrap percentile interval of pooled_delta. */
  ci: [number, number] | null;
  /** Posts in the pooled test (posts × paired seeds). */
  pooled_posts: number | null;
  /**
   * Why the setting does not apply to the model (ITC or ITM for a one-modality model): the cell was left out
   * of the grid, never trained, and is neither missing nor failed. Null for every other cell.
   */
  not_applicable: string | null;
}

export interface SliceRow {
  dataset: string;
  model: string;
  objectives: string;
  /** label, text_length, or extra.<field>. */
  slice: string;
  value: string;
  /** Posts of the slice (per seed). */
  posts: number;
  accuracy_ce: number;
  accuracy: number;
  delta: number;
  ci: [number, number];
}

export interface StudyReport {
  study: string;
  split: 'test' | 'dev';
  metrics: ReportMetric[];
  objectives: string[];
  datasets: string[];
  models: string[];
  /** Runs of the grid; `not_applicable` counts the cells left out of it (one per seed). */
  runs: { total: number; done: number; missing: string[]; not_applicable: number };
  test: {
    name: 'paired-bootstrap' | 'approximate-randomization';
    resamples: number;
    seed: number;
    alternative: 'two-sided';
    pooling: string;
    correction: 'holm';
    alpha: number;
  };
  cells: ReportCell[];
  slices: SliceRow[];
  notes: string[];
}

const ALPHA = 0.05;

export function readPredictions(runDir: string, split: 'test' | 'dev'): Prediction[] | null {
  const f = join(runDir, `predictions-${split}.jsonl`);
  if (!existsSync(f)) return null;
  return readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      try {
        return JSON.parse(l) as Prediction;
      } catch (e) {
        throw new Error(`${f}:${i + 1}: ${(e as Error).message}`);
      }
    });
}

export function readResults(runDir: string): Record<string, unknown> | null {
  const f = join(runDir, 'results.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>) : null;
}

export function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Sample standard deviation (n - 1), null below two values. */
export function sd(xs: number[]): number | null {
  if (xs.length < 2) return null;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

interface Paired {
  gold: number[];
  a: number[];
  b: number[];
  /** The post of each pooled position (for slicing). */
  ids: string[];
  /** Class names by the indices above. */
  classes: string[];
}

/**
 * Pools the seeds present in both settings: each seed's predictions joined with CE's of the same seed on the
 * post id. Posts missing from either side are an error (the runs did not see the same test posts).
 */
function pairUp(setting: Map<number, Prediction[]>, ce: Map<number, Prediction[]>, where: string): Paired | null {
  const out: Paired = { gold: [], a: [], b: [], ids: [], classes: [] };
  const classes = new Map<string, number>();
  const idx = (l: string) => {
    if (!classes.has(l)) classes.set(l, classes.size);
    return classes.get(l)!;
  };
  for (const [seed, preds] of setting) {
    const base = ce.get(seed);
    if (!base) continue;
    const byId = new Map(base.map((p) => [p.id, p]));
    if (byId.size !== preds.length)
      throw new Error(
        `${where}, seed ${seed}: ${preds.length} posts against CE's ${byId.size}: not the same test posts`,
      );
    for (const p of preds) {
      const q = byId.get(p.id);
      if (!q) throw new Error(`${where}, seed ${seed}: post ${p.id} has no CE prediction: not the same test posts`);
      if (p.gold === null || Array.isArray(p.gold) || Array.isArray(p.predicted)) return null;
      out.gold.push(idx(p.gold));
      out.a.push(idx(p.predicted));
      out.b.push(idx(q.predicted as string));
      out.ids.push(p.id);
    }
  }
  out.classes = [...classes.keys()];
  return out.gold.length ? out : null;
}

/** Equal-count buckets of a numeric value over posts (terciles), named by their ranges. */
function quantileBuckets(values: Map<string, number>, k = 3, show = (x: number) => String(x)): Map<string, string> {
  const sorted = [...values.values()].sort((a, b) => a - b);
  // cut points at the quantiles, repeated ones merged (many posts of one length make fewer buckets)
  const cuts = [
    ...new Set(
      Array.from({ length: k - 1 }, (_, i) => sorted[Math.floor(((i + 1) * sorted.length) / k)]!).filter(
        (c) => c > sorted[0]!,
      ),
    ),
  ];
  k = cuts.length + 1;
  const edges = [sorted[0]!, ...cuts, sorted[sorted.length - 1]!];
  const out = new Map<string, string>();
  for (const [id, v] of values) {
    let b = 0;
    while (b < cuts.length && v >= cuts[b]!) b++;
    const lo = show(edges[b]!);
    const hi = b < cuts.length ? `<${show(cuts[b]!)}` : show(edges[edges.length - 1]!);
    out.set(id, `q${b + 1}: ${lo}-${hi}`);
  }
  return out;
}

/** The slicings of a dataset's posts: label (from the predictions), text length, categorical extra fields. */
function slicings(rows: Row[], notes: string[], dataset: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  const lengths = new Map(rows.map((r) => [r.id, r.text.trim() === '' ? 0 : r.text.trim().split(/\s+/).length]));
  if (lengths.size >= 6 && new Set(lengths.values()).size >= 2)
    out.set('text_length (words)', quantileBuckets(lengths));
  const fields = new Map<string, Map<string, string>>();
  for (const r of rows)
    for (const [k, v] of Object.entries(r.extra ?? {})) {
      if (typeof v !== 'string' && typeof v !== 'boolean') continue;
      if (!fields.has(k)) fields.set(k, new Map());
      fields.get(k)!.set(r.id, String(v));
    }
  for (const [k, m] of fields) {
    const distinct = new Set(m.values()).size;
    if (distinct >= 2 && distinct <= 12 && m.size === rows.length) out.set(`extra.${k}`, m);
    else if (distinct > 12) notes.push(`${dataset}: extra.${k} has ${distinct} values: not sliced (not categorical)`);
  }
  return out;
}

function splitRows(run: StudyRun, split: 'test' | 'dev'): Row[] | null {
  const f = join(run.dir, 'run.json');
  if (!existsSync(f)) return null;
  const cfg = JSON.parse(readFileSync(f, 'utf8')) as {
    data: { path: string; format: string; variant?: string; splitSeed?: number };
  };
  const res = loadDataset(cfg.data.format, cfg.data.path, {
    ...(cfg.data.variant ? { variant: cfg.data.variant } : {}),
    ...(cfg.data.splitSeed !== undefined ? { splitSeed: cfg.data.splitSeed } : {}),
    onMissingImage: 'keep',
  });
  return res.rows.filter((r) => {
    const s = r.split === 'validation' || r.split === 'val' ? 'dev' : r.split;
    return s === split;
  });
}

export function buildReport(studyDir: string, o: { seed?: number } = {}): StudyReport {
  const { spec, runs, notApplicable } = loadStudy(studyDir);
  return reportOf(spec, runs, notApplicable, studyDir, o.seed ?? 0);
}

function reportOf(
  spec: StudySpec,
  runs: StudyRun[],
  notApplicable: NotApplicableRun[],
  studyDir: string,
  seed: number,
): StudyReport {
  const split = spec.report.split;
  const notes: string[] = [];
  const resamples = spec.report.resamples;
  const testName = spec.report.test === 'bootstrap' ? 'paired-bootstrap' : 'approximate-randomization';
  const results = new Map<string, Record<string, unknown>>();
  const preds = new Map<string, Prediction[]>();
  const missing: string[] = [];
  for (const r of runs) {
    const res = readResults(r.dir);
    if (!res) {
      missing.push(r.id);
      continue;
    }
    results.set(r.id, res);
    const p = readPredictions(r.dir, split);
    if (p) preds.set(r.id, p);
    else notes.push(`${r.id}: no predictions-${split}.jsonl (trained before predictions were saved): not tested`);
  }
  if (missing.length) notes.push(`${missing.length} of ${runs.length} runs unfinished: their cells have fewer seeds`);
  const key = (d: string, m: string, o: string) => `${d}\u0000${m}\u0000${o}`;
  const groups = new Map<string, StudyRun[]>();
  for (const r of runs) {
    const k = key(r.dataset, r.model, r.objectives);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  const predsBySeed = (rs: StudyRun[]) =>
    new Map(rs.filter((r) => preds.has(r.id)).map((r) => [r.seed, preds.get(r.id)!] as const));
  const cells: ReportCell[] = [];
  const slices: SliceRow[] = [];
  const hasCe = spec.objectives.includes('ce');
  if (!hasCe) notes.push('no `ce` setting in the study: no differences or tests against CE');
  for (const d of spec.datasets) {
    let rowsCache: Row[] | null | undefined;
    for (const m of spec.models) {
      const ceRuns = groups.get(key(d.name, m.name, 'ce')) ?? [];
      for (const o of spec.objectives) {
        const na = whyNotApplicable(m, o);
        if (na !== null) {
          // no run: shown as not applicable, and no test (only the settings that ran for a model are compared)
          for (const metric of spec.report.metrics)
            cells.push({
              dataset: d.name,
              model: m.name,
              objectives: o,
              metric,
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
              not_applicable: na,
            });
          notes.push(`${m.name}: ${o} not applicable (${na}); left out of the grid`);
          continue;
        }
        const rs = groups.get(key(d.name, m.name, o))!;
        const paired =
          hasCe && o !== 'ce' ? pairUp(predsBySeed(rs), predsBySeed(ceRuns), `${d.name}/${m.name}/${o}`) : null;
        for (const metric of spec.report.metrics) {
          const valuesOf = (group: StudyRun[]) =>
            group
              .filter((r) => results.has(r.id))
              .map((r) => Number((results.get(r.id)![split] as Record<string, unknown> | null)?.[metric]))
              .filter((x) => Number.isFinite(x));
          const values = valuesOf(rs);
          const ceValues = valuesOf(ceRuns);
          const mu = values.length ? mean(values) : null;
          let p: number | null = null;
          let ci: [number, number] | null = null;
          let pooledDelta: number | null = null;
          if (paired) {
            const t = (testName === 'paired-bootstrap' ? pairedBootstrap : permutationTest)(
              paired.gold,
              paired.a,
              paired.b,
              { metric, rounds: resamples, seed, alternative: 'two-sided' },
            );
            p = t.pValue;
            pooledDelta = t.delta;
            ci =
              t.ci ?? pairedBootstrap(paired.gold, paired.a, paired.b, { metric, rounds: resamples, seed }).ci ?? null;
          }
          cells.push({
            dataset: d.name,
            model: m.name,
            objectives: o,
            metric,
            mean: mu,
            sd: sd(values),
            n: values.length,
            values,
            delta_vs_ce: hasCe && o !== 'ce' && mu !== null && ceValues.length ? mu - mean(ceValues) : null,
            p_value: p,
            p_holm: null,
            pooled_delta: pooledDelta,
            ci,
            pooled_posts: paired ? paired.gold.length : null,
            not_applicable: null,
          });
        }
        // slices: accuracy within each slice, this setting against CE, pooled over paired seeds
        if (paired) {
          if (rowsCache === undefined) {
            const any = rs.find((r) => results.has(r.id));
            rowsCache = any ? splitRows(any, split) : null;
          }
          const cuts = new Map<string, Map<string, string>>([
            ['label', new Map(paired.ids.map((id, i) => [id, paired.classes[paired.gold[i]!]!]))],
          ]);
          if (rowsCache) for (const [k, v] of slicings(rowsCache, notes, d.name)) cuts.set(k, v);
          const sim = similaritySource(spec, groups, preds, d.name, m.name);
          if (sim)
            cuts.set(
              `image-text similarity (${sim.run})`,
              quantileBuckets(sim.values, 3, (x) => x.toFixed(3)),
            );
          else
            notes.push(
              `${d.name}/${m.name}: no finished run with ITC and saved similarities: no image-text similarity slices`,
            );
          for (const [slice, byId] of cuts) {
            const values = [...new Set(byId.values())].sort();
            for (const value of values) {
              const at = paired.ids.map((id, i) => (byId.get(id) === value ? i : -1)).filter((i) => i >= 0);
              if (at.length < 2) continue;
              const gold = at.map((i) => paired.gold[i]!);
              const a = at.map((i) => paired.a[i]!);
              const b = at.map((i) => paired.b[i]!);
              const t = pairedBootstrap(gold, a, b, { metric: 'accuracy', rounds: Math.min(resamples, 1000), seed });
              const seeds = new Set(rs.filter((r) => preds.has(r.id)).map((r) => r.seed)).size || 1;
              slices.push({
                dataset: d.name,
                model: m.name,
                objectives: o,
                slice,
                value,
                posts: Math.round(at.length / seeds),
                accuracy_ce: t.scoreB,
                accuracy: t.scoreA,
                delta: t.delta,
                ci: t.ci!,
              });
            }
          }
        }
      }
    }
  }
  const adjusted = holm(cells.map((c) => c.p_value ?? NaN));
  cells.forEach((c, i) => (c.p_holm = Number.isNaN(adjusted[i]!) ? null : adjusted[i]!));
  return {
    study: studyDir,
    split,
    metrics: spec.report.metrics,
    objectives: spec.objectives,
    datasets: spec.datasets.map((d) => d.name),
    models: spec.models.map((m) => m.name),
    runs: { total: runs.length, done: results.size, missing, not_applicable: notApplicable.length },
    test: {
      name: testName,
      resamples,
      seed,
      alternative: 'two-sided',
      pooling: "seeds pooled: each seed's predictions paired with CE's of the same seed on the same posts",
      correction: 'holm',
      alpha: ALPHA,
    },
    cells,
    slices,
    notes: [...new Set(notes)],
  };
}

/**
 * The image-text similarity of each post under a model of the study trained with ITC (the first finished
 * setting with itc, lowest seed): the cosine of its text and image embeddings saved with the predictions.
 */
function similaritySource(
  spec: StudySpec,
  groups: Map<string, StudyRun[]>,
  preds: Map<string, Prediction[]>,
  dataset: string,
  model: string,
): { run: string; values: Map<string, number> } | null {
  for (const o of spec.objectives) {
    if (!o.split('+').includes('itc')) continue;
    const rs = [...(groups.get(`${dataset}\u0000${model}\u0000${o}`) ?? [])].sort((a, b) => a.seed - b.seed);
    for (const r of rs) {
      const p = preds.get(r.id);
      if (p && p.length >= 6 && p.every((x) => typeof x.similarity === 'number'))
        return { run: `${o} seed ${r.seed}`, values: new Map(p.map((x) => [x.id, x.similarity!])) };
    }
  }
  return null;
}

/** What a table shows in a cell whose setting does not apply to the model. */
export const NOT_APPLICABLE = 'n/a: one modality';

const fmt = (x: number | null, d = 4) => (x === null ? '–' : x.toFixed(d));
const signed = (x: number | null, d = 4) => (x === null ? '–' : (x >= 0 ? '+' : '') + x.toFixed(d));

function mark(c: ReportCell, alpha: number): string {
  return c.p_holm !== null && c.p_holm < alpha ? '*' : '';
}

/** The table as Markdown, CSV or LaTeX. */
export function formatReport(r: StudyReport, format: 'markdown' | 'csv' | 'latex'): string {
  const cell = (d: string, m: string, o: string, metric: string) =>
    r.cells.find((c) => c.dataset === d && c.model === m && c.objectives === o && c.metric === metric)!;
  const legend = `${r.split} split; mean ± sd over seeds (n finished seeds); Δ = difference with CE; * = ${r.test.name} test against CE (${r.test.resamples} resamples, two-sided, ${r.test.pooling}) significant at ${r.test.alpha} after Holm's correction over ${r.cells.filter((c) => c.p_value !== null).length} tests${r.cells.some((c) => c.not_applicable !== null) ? `; ${NOT_APPLICABLE}: ITC and ITM pair a text with an image, so a text-only or image-only model has no run of that setting` : ''}`;
  if (format === 'csv') {
    const head = 'dataset,model,objectives,metric,mean,sd,n,delta_vs_ce,p_value,p_holm,ci_low,ci_high,not_applicable';
    const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    const num = (x: number | null) => (x === null ? '' : String(x));
    return [
      head,
      ...r.cells.map((c) =>
        [
          q(c.dataset),
          q(c.model),
          q(c.objectives),
          c.metric,
          num(c.mean),
          num(c.sd),
          c.n,
          num(c.delta_vs_ce),
          num(c.p_value),
          num(c.p_holm),
          num(c.ci?.[0] ?? null),
          num(c.ci?.[1] ?? null),
          c.not_applicable === null ? '' : q(c.not_applicable),
        ].join(','),
      ),
    ].join('\n');
  }
  const out: string[] = [];
  for (const metric of r.metrics) {
    if (format === 'markdown') {
      out.push(`### ${metric}`, '');
      out.push(`| dataset | model | ${r.objectives.join(' | ')} |`);
      out.push(`| --- | --- |${r.objectives.map(() => ' --- |').join('')}`);
      for (const d of r.datasets)
        for (const m of r.models) {
          const cs = r.objectives.map((o) => {
            const c = cell(d, m, o, metric);
            if (c.not_applicable !== null) return NOT_APPLICABLE;
            const base = `${fmt(c.mean)} ± ${fmt(c.sd)} (n=${c.n})`;
            return c.delta_vs_ce === null ? base : `${base} Δ ${signed(c.delta_vs_ce)}${mark(c, r.test.alpha)}`;
          });
          out.push(`| ${d} | ${m} | ${cs.join(' | ')} |`);
        }
      out.push('');
    } else {
      const esc = (s: string) => s.replace(/[_&%#$]/g, (ch) => `\\${ch}`);
      out.push(`% ${metric}: ${legend}`);
      out.push(`\\begin{tabular}{ll${'r'.repeat(r.objectives.length)}}`, '\\toprule');
      out.push(`Dataset & Model & ${r.objectives.map((o) => esc(o.toUpperCase())).join(' & ')} \\\\`, '\\midrule');
      for (const d of r.datasets)
        for (const m of r.models) {
          const cs = r.objectives.map((o) => {
            const c = cell(d, m, o, metric);
            if (c.not_applicable !== null) return 'n/a';
            const base = `${fmt(c.mean)} $\\pm$ ${fmt(c.sd)}`;
            return c.delta_vs_ce === null
              ? base
              : `${base} (${signed(c.delta_vs_ce)})${mark(c, r.test.alpha) ? '$^{*}$' : ''}`;
          });
          out.push(`${esc(d)} & ${esc(m)} & ${cs.join(' & ')} \\\\`);
        }
      out.push('\\bottomrule', '\\end{tabular}', '');
    }
  }
  if (format === 'markdown') {
    out.push(legend + '.');
    if (r.slices.length) {
      out.push('', '### Slices: accuracy against CE (95% bootstrap interval of the difference)', '');
      out.push('| dataset | model | setting | slice | value | posts | CE | setting | Δ [95% CI] |');
      out.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
      for (const s of r.slices)
        out.push(
          `| ${s.dataset} | ${s.model} | ${s.objectives} | ${s.slice} | ${s.value} | ${s.posts} | ${fmt(s.accuracy_ce, 3)} | ${fmt(s.accuracy, 3)} | ${signed(s.delta, 3)} [${signed(s.ci[0], 3)}, ${signed(s.ci[1], 3)}] |`,
        );
    }
    if (r.notes.length) out.push('', ...r.notes.map((n) => `- ${n}`));
  }
  return out.join('\n');
}
