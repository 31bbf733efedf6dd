// The metrics report of predictions against their truth (the eval layer's reports, fed from probabilities).
import { classificationReport, multilabelReport, type MetricsReport, type MultilabelReport } from '../eval/index.js';
import type { Predictions } from './predict.js';

/** The metrics report of predictions against the truth. */
export function metricsOf(
  pred: Pick<Predictions, 'probs' | 'truth'>,
  labelNames: string[],
  multiLabel: boolean,
): MetricsReport | MultilabelReport {
  if (!pred.truth) throw new Error('no labels to evaluate against');
  if (multiLabel) {
    const yPred = pred.probs.map((row) => row.map((p) => (p >= 0.5 ? 1 : 0)));
    return multilabelReport(pred.truth as number[][], yPred, { labelNames });
  }
  const yPred = pred.probs.map((row) => row.indexOf(Math.max(...row)));
  return classificationReport(pred.truth as number[], yPred, {
    labelNames,
    ...(labelNames.length === 2 ? { scores: pred.probs.map((r) => r[1]!) } : { scores: pred.probs }),
  });
}
