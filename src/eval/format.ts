// Plain-text tables of a report, laid out like scikit-learn's classification_report, plus AUROC and the
// confusion matrix; and one-line summaries of significance tests.
import type { ClassScores, MetricsReport, MultilabelReport } from './report.js';
import type { McNemarResult, ResamplingResult } from './significance.js';

export interface FormatOptions {
  /** Decimal places (default 4). */
  digits?: number;
  /** Leave out the confusion matrix (default: shown for single-label reports). */
  confusionMatrix?: boolean;
}

function isMultilabel(r: MetricsReport | MultilabelReport): r is MultilabelReport {
  return 'f1_samples' in r;
}

function num(x: number | null | undefined, digits: number): string {
  return x === null || x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(digits);
}

/** The per-class and averaged scores of a report as a text table (sklearn's layout). */
export function formatReport(r: MetricsReport | MultilabelReport, opts: FormatOptions = {}): string {
  const digits = opts.digits ?? 4;
  if (!Number.isInteger(digits) || digits < 0 || digits > 15)
    throw new RangeError(`digits = ${digits}: expected 0..15`);
  const multi = isMultilabel(r);
  const avgNames = multi ? ['micro avg', 'macro avg', 'weighted avg', 'samples avg'] : ['macro avg', 'weighted avg'];
  const extraNames = multi ? ['subset accuracy', 'hamming loss'] : ['accuracy'];
  const nameWidth = Math.max(
    ...r.labels.map((l) => l.length),
    ...avgNames.map((a) => a.length),
    ...extraNames.map((a) => a.length),
  );
  const col = Math.max(9, digits + 3);
  const row = (name: string, cells: string[]) =>
    name.padStart(nameWidth) + cells.map((c) => ' ' + c.padStart(col)).join('');
  const scores = (s: { precision: number; recall: number; f1: number }, support: number) => [
    num(s.precision, digits),
    num(s.recall, digits),
    num(s.f1, digits),
    String(support),
  ];
  const totalSupport = Object.values(r.per_class).reduce((s: number, c: ClassScores) => s + c.support, 0);
  const lines = [row('', ['precision', 'recall', 'f1-score', 'support']), ''];
  for (const l of r.labels) lines.push(row(l, scores(r.per_class[l], r.per_class[l].support)));
  lines.push('');
  if (multi) {
    lines.push(
      row('micro avg', scores({ precision: r.precision_micro, recall: r.recall_micro, f1: r.f1_micro }, totalSupport)),
    );
    lines.push(
      row('macro avg', scores({ precision: r.precision_macro, recall: r.recall_macro, f1: r.f1_macro }, totalSupport)),
    );
    lines.push(
      row(
        'weighted avg',
        scores({ precision: r.precision_weighted, recall: r.recall_weighted, f1: r.f1_weighted }, totalSupport),
      ),
    );
    lines.push(
      row(
        'samples avg',
        scores({ precision: r.precision_samples, recall: r.recall_samples, f1: r.f1_samples }, totalSupport),
      ),
    );
    lines.push('');
    lines.push(row('subset accuracy', ['', '', num(r.subset_accuracy, digits), String(r.n)]));
    lines.push(row('hamming loss', ['', '', num(r.hamming_loss, digits), String(r.n)]));
    if (r.auroc_macro !== undefined) lines.push('', `AUROC (macro over labels): ${num(r.auroc_macro, digits)}`);
    return lines.join('\n') + '\n';
  }
  lines.push(row('accuracy', ['', '', num(r.accuracy, digits), String(r.n)]));
  lines.push(row('macro avg', scores({ precision: r.precision_macro, recall: r.recall_macro, f1: r.f1_macro }, r.n)));
  lines.push(
    row('weighted avg', scores({ precision: r.precision_weighted, recall: r.recall_weighted, f1: r.f1_weighted }, r.n)),
  );
  if (r.auroc !== undefined) lines.push('', `AUROC: ${num(r.auroc, digits)}`);
  if (r.auroc_ovr_macro !== undefined) lines.push('', `AUROC (one-vs-rest, macro): ${num(r.auroc_ovr_macro, digits)}`);
  if (opts.confusionMatrix !== false) lines.push('', formatConfusionMatrix(r.confusion_matrix, r.labels));
  return lines.join('\n') + '\n';
}

/** A confusion matrix with class names; rows are the truth, columns the prediction. */
export function formatConfusionMatrix(m: number[][], labels: string[]): string {
  const cells = m.flat().map(String);
  const width = Math.max(...labels.map((l) => l.length), ...cells.map((c) => c.length), 4);
  const nameWidth = Math.max(...labels.map((l) => l.length), 'true \\ pred'.length);
  const out = ['true \\ pred'.padEnd(nameWidth) + labels.map((l) => ' ' + l.padStart(width)).join('')];
  m.forEach((row, i) =>
    out.push(labels[i].padStart(nameWidth) + row.map((x) => ' ' + String(x).padStart(width)).join('')),
  );
  return out.join('\n');
}

/** One line per test: what was compared, the difference and the p-value. */
export function formatSignificance(r: ResamplingResult | McNemarResult, digits = 4): string {
  if (r.test === 'mcnemar') {
    return `McNemar (${r.method}): A right/B wrong ${r.b}, A wrong/B right ${r.c}, statistic ${num(r.statistic, digits)}, p = ${formatP(r.pValue)}`;
  }
  const ci = r.ci
    ? `, ${Math.round((r.confidence ?? 0.95) * 100)}% CI [${num(r.ci[0], digits)}, ${num(r.ci[1], digits)}]`
    : '';
  return (
    `${r.test} on ${r.metric}: A ${num(r.scoreA, digits)}, B ${num(r.scoreB, digits)}, ` +
    `A - B ${num(r.delta, digits)}${ci}, p = ${formatP(r.pValue)} (${r.alternative}, ${r.rounds} rounds, seed ${r.seed})`
  );
}

function formatP(p: number): string {
  return p < 1e-4 ? p.toExponential(2) : p.toFixed(4);
}
