// The study's HTML report: one self-contained file (no scripts or fonts fetched at view time) with the table
// and charts drawn by Vega-Lite, compiled to Vega and rendered to SVG here in Node by Vega's headless view.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { writeFileAtomic } from '../io/atomic-write.js';
import { loadStudy } from './runner.js';
import { NOT_APPLICABLE, readResults, type StudyReport } from './report.js';

type Spec = Record<string, unknown>;

/** Renders one Vega-Lite specification to an SVG string (no browser, no canvas). */
export async function renderSvg(spec: Spec): Promise<string> {
  // Vega-Lite's warnings about scale resolution in facets are not the reader's concern; errors still throw.
  // (the charts are built as plain objects below; Vega-Lite validates them as it compiles)
  const topLevel = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...spec,
  } as unknown as vl.TopLevelSpec;
  const compiled = vl.compile(topLevel, { logger: vega.logger(vega.None) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const f4 = (x: number | null) => (x === null ? '–' : x.toFixed(4));

interface Chart {
  id: string;
  title: string;
  spec: Spec;
}

function deltaChart(r: StudyReport): Chart | null {
  const rows = r.cells
    .filter((c) => c.ci && c.pooled_delta !== null)
    .map((c) => ({
      group: `${c.dataset} / ${c.model}`,
      setting: c.objectives,
      metric: c.metric,
      delta: c.pooled_delta,
      lo: c.ci![0],
      hi: c.ci![1],
    }));
  if (!rows.length) return null;
  const layer = [
    { mark: { type: 'rule' }, encoding: { x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
    {
      mark: { type: 'point', filled: true, size: 60 },
      encoding: { x: { field: 'delta', type: 'quantitative', title: 'difference with CE (pooled seeds)' } },
    },
    { mark: { type: 'rule', color: '#888', strokeDash: [3, 3] }, encoding: { x: { datum: 0 } } },
  ];
  return {
    id: 'deltas',
    title: `Difference with CE on the pooled ${r.split} posts, with 95% paired bootstrap intervals (${r.test.resamples} resamples)`,
    spec: {
      data: { values: rows },
      facet: { row: { field: 'group', type: 'nominal', title: null }, column: { field: 'metric', type: 'nominal' } },
      spec: {
        width: 260,
        height: { step: 22 },
        encoding: { y: { field: 'setting', type: 'nominal', title: null }, color: { field: 'setting', legend: null } },
        layer,
      },
    },
  };
}

interface RunInfo {
  dataset: string;
  model: string;
  objectives: string;
  seed: number;
  dir: string;
  results: Record<string, unknown>;
}

function learningCurves(runs: RunInfo[], metric: string): Chart[] {
  const losses: Record<string, unknown>[] = [];
  const dev: Record<string, unknown>[] = [];
  for (const r of runs) {
    const log = join(r.dir, 'log.jsonl');
    if (existsSync(log))
      for (const line of readFileSync(log, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const rec = JSON.parse(line) as Record<string, number>;
        for (const k of ['ce', 'itc', 'itm'])
          if (typeof rec[k] === 'number')
            losses.push({
              group: `${r.dataset} / ${r.model}`,
              setting: r.objectives,
              seed: r.seed,
              step: rec.step,
              loss: k,
              value: rec[k],
            });
      }
    const hist = (r.results.dev_history ?? []) as { epoch: number; metrics: Record<string, number> }[];
    for (const h of hist)
      dev.push({
        group: `${r.dataset} / ${r.model}`,
        setting: r.objectives,
        seed: r.seed,
        epoch: h.epoch,
        value: h.metrics[metric],
      });
  }
  const out: Chart[] = [];
  if (losses.length)
    out.push({
      id: 'curves-loss',
      title: 'Training losses per step (one line per seed)',
      spec: {
        data: { values: losses },
        facet: { row: { field: 'group', type: 'nominal', title: null }, column: { field: 'loss', type: 'nominal' } },
        spec: {
          width: 220,
          height: 140,
          mark: { type: 'line', strokeWidth: 1 },
          encoding: {
            x: { field: 'step', type: 'quantitative' },
            y: { field: 'value', type: 'quantitative', title: 'loss' },
            color: { field: 'setting', type: 'nominal' },
            detail: { field: 'seed', type: 'nominal' },
          },
        },
        resolve: { scale: { y: 'independent' } },
      },
    });
  if (dev.length)
    out.push({
      id: 'curves-dev',
      title: `Dev ${metric} per epoch (one line per seed)`,
      spec: {
        data: { values: dev },
        facet: { column: { field: 'group', type: 'nominal', title: null } },
        spec: {
          width: 240,
          height: 160,
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'epoch', type: 'quantitative' },
            y: { field: 'value', type: 'quantitative', title: metric },
            color: { field: 'setting', type: 'nominal' },
            detail: { field: 'seed', type: 'nominal' },
          },
        },
      },
    });
  return out;
}

function confusionAndF1(runs: RunInfo[], split: string): Chart[] {
  const cm: Record<string, unknown>[] = [];
  const f1: Record<string, unknown>[] = [];
  const sums = new Map<string, { labels: string[]; m: number[][]; dataset: string; model: string; setting: string }>();
  for (const r of runs) {
    const rep = r.results[split] as {
      labels?: string[];
      confusion_matrix?: number[][];
      per_class?: Record<string, { f1: number }>;
    } | null;
    if (!rep) continue;
    const labels = (rep.labels ?? (r.results.labels as string[] | undefined)) as string[] | undefined;
    if (labels && rep.confusion_matrix) {
      const k = `${r.dataset}\u0000${r.model}\u0000${r.objectives}`;
      const s = sums.get(k) ?? {
        labels,
        m: labels.map(() => labels.map(() => 0)),
        dataset: r.dataset,
        model: r.model,
        setting: r.objectives,
      };
      rep.confusion_matrix.forEach((row, i) => row.forEach((n, j) => (s.m[i]![j]! += n)));
      sums.set(k, s);
    }
    for (const [cls, sc] of Object.entries(rep.per_class ?? {}))
      f1.push({ group: `${r.dataset} / ${r.model}`, setting: r.objectives, seed: r.seed, class: cls, f1: sc.f1 });
  }
  for (const s of sums.values())
    s.m.forEach((row, i) =>
      row.forEach((n, j) =>
        cm.push({
          group: `${s.dataset} / ${s.model}`,
          setting: s.setting,
          gold: s.labels[i],
          predicted: s.labels[j],
          count: n,
        }),
      ),
    );
  const out: Chart[] = [];
  if (cm.length)
    out.push({
      id: 'confusion',
      title: `Confusion matrices, ${split} split (summed over seeds)`,
      spec: {
        data: { values: cm },
        facet: { row: { field: 'group', type: 'nominal', title: null }, column: { field: 'setting', type: 'nominal' } },
        spec: {
          width: { step: 40 },
          height: { step: 40 },
          encoding: {
            x: { field: 'predicted', type: 'nominal' },
            y: { field: 'gold', type: 'nominal' },
          },
          layer: [
            { mark: 'rect', encoding: { color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' } } } },
            { mark: { type: 'text', fontSize: 10 }, encoding: { text: { field: 'count', type: 'quantitative' } } },
          ],
        },
      },
    });
  if (f1.length)
    out.push({
      id: 'per-class-f1',
      title: `Per-class F1, ${split} split (mean over seeds, points per seed)`,
      spec: {
        data: { values: f1 },
        facet: { column: { field: 'group', type: 'nominal', title: null } },
        spec: {
          width: 260,
          height: 160,
          encoding: {
            x: { field: 'class', type: 'nominal', title: null },
            xOffset: { field: 'setting', type: 'nominal' },
            color: { field: 'setting', type: 'nominal' },
          },
          layer: [
            { mark: 'bar', encoding: { y: { aggregate: 'mean', field: 'f1', type: 'quantitative', title: 'F1' } } },
            {
              mark: { type: 'point', color: 'black', size: 12 },
              encoding: { y: { field: 'f1', type: 'quantitative' } },
            },
          ],
        },
      },
    });
  return out;
}

function sliceChart(r: StudyReport): Chart | null {
  if (!r.slices.length) return null;
  const rows = r.slices.map((s) => ({
    group: `${s.dataset} / ${s.model}`,
    slice: s.slice,
    item: `${s.value} (${s.posts})`,
    setting: s.objectives,
    delta: s.delta,
    lo: s.ci[0],
    hi: s.ci[1],
  }));
  return {
    id: 'slices',
    title: 'Accuracy difference with CE by slice of the posts (95% bootstrap intervals; posts per slice)',
    spec: {
      data: { values: rows },
      facet: {
        row: { field: 'slice', type: 'nominal', title: null },
        column: { field: 'group', type: 'nominal', title: null },
      },
      spec: {
        width: 260,
        height: { step: 16 },
        encoding: {
          y: { field: 'item', type: 'nominal', title: null },
          yOffset: { field: 'setting', type: 'nominal' },
          color: { field: 'setting', type: 'nominal' },
        },
        layer: [
          { mark: 'rule', encoding: { x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
          {
            mark: { type: 'point', filled: true },
            encoding: { x: { field: 'delta', type: 'quantitative', title: 'Δ accuracy' } },
          },
          { mark: { type: 'rule', color: '#888', strokeDash: [3, 3] }, encoding: { x: { datum: 0 } } },
        ],
      },
      resolve: { scale: { y: 'independent' } },
    },
  };
}

function table(r: StudyReport): string {
  const parts: string[] = [];
  for (const metric of r.metrics) {
    parts.push(`<h3>${esc(metric)}</h3><table class="results"><thead><tr><th>dataset</th><th>model</th>`);
    for (const o of r.objectives) parts.push(`<th>${esc(o)}</th>`);
    parts.push('</tr></thead><tbody>');
    for (const d of r.datasets)
      for (const m of r.models) {
        parts.push(`<tr><td>${esc(d)}</td><td>${esc(m)}</td>`);
        for (const o of r.objectives) {
          const c = r.cells.find((x) => x.dataset === d && x.model === m && x.objectives === o && x.metric === metric)!;
          const sig = c.p_holm !== null && c.p_holm < r.test.alpha;
          const key = esc(`${d}|${m}|${o}|${metric}`);
          if (c.not_applicable !== null) {
            parts.push(
              `<td data-cell="${key}" class="na" title="${esc(c.not_applicable)}"><span class="not-applicable">${esc(NOT_APPLICABLE)}</span></td>`,
            );
            continue;
          }
          parts.push(
            `<td data-cell="${key}"><span class="mean">${f4(c.mean)}</span> ± <span class="sd">${f4(c.sd)}</span> <small>n=<span class="n">${c.n}</span></small>` +
              (c.delta_vs_ce === null
                ? ''
                : `<br><span class="delta">${c.delta_vs_ce >= 0 ? '+' : ''}${f4(c.delta_vs_ce)}</span>${sig ? '<b>*</b>' : ''} <small>p=<span class="p">${f4(c.p_value)}</span>, Holm <span class="p-holm">${f4(c.p_holm)}</span></small>`) +
              '</td>',
          );
        }
        parts.push('</tr>');
      }
    parts.push('</tbody></table>');
  }
  return parts.join('');
}

/** Renders the report (the JSON report plus the run folders' logs and results) to one HTML file. */
export async function writeHtmlReport(path: string, r: StudyReport, studyDir: string): Promise<void> {
  const { runs } = loadStudy(studyDir);
  const infos: RunInfo[] = [];
  for (const run of runs) {
    const results = readResults(run.dir);
    if (results) infos.push({ ...run, results });
  }
  const devMetric = (infos[0]?.results.metric as string | undefined) ?? 'f1_macro';
  const charts = [
    deltaChart(r),
    ...learningCurves(infos, devMetric),
    ...confusionAndF1(infos, r.split),
    sliceChart(r),
  ].filter((c): c is Chart => c !== null);
  const figures: string[] = [];
  for (const c of charts)
    figures.push(
      `<figure class="chart" id="${c.id}"><figcaption>${esc(c.title)}</figcaption>${await renderSvg(c.spec)}</figure>`,
    );
  const legend = `${r.split} split; mean ± sd over seeds; second line: difference with CE, * = significant at ${r.test.alpha} after Holm's correction (${r.test.name}, ${r.test.resamples} resamples, two-sided; ${r.test.pooling}).${r.cells.some((c) => c.not_applicable !== null) ? ` ${NOT_APPLICABLE}: ITC and ITM pair a text with an image, so a text-only or image-only model has no run of that setting (not a missing run).` : ''}`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tandem study report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222;max-width:1400px}
table.results{border-collapse:collapse;margin:.5em 0 1.5em}
table.results td,table.results th{border:1px solid #ccc;padding:.3em .6em;text-align:right;vertical-align:top}
table.results td.na{color:#888;font-style:italic;background:#f6f6f6}
table.results td:nth-child(-n+2),table.results th:nth-child(-n+2){text-align:left}
figure{margin:1.5em 0}figcaption{font-weight:600;margin-bottom:.5em}
.notes li{color:#555}
</style></head><body>
<h1>Study report</h1>
<p>${esc(r.study)}: ${r.runs.done} of ${r.runs.total} runs finished${r.runs.not_applicable ? `; ${r.runs.not_applicable} not applicable (left out of the grid)` : ''}.</p>
<h2>Results</h2>
${table(r)}
<p>${esc(legend)}</p>
<h2>Charts</h2>
${figures.join('\n')}
${r.notes.length ? `<h2>Notes</h2><ul class="notes">${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
<script type="application/json" id="report-data">${JSON.stringify(r).replace(/</g, '\\u003c')}</script>
</body></html>
`;
  writeFileAtomic(path, html);
}
