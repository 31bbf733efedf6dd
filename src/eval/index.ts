// Evaluation: classification metrics (scikit-learn's definitions), AUROC, significance tests, text reports.
export { presentLabels, type Labels } from './labels.js';
export * from './numeric.js';
export * from './classification.js';
export * from './multilabel.js';
export * from './auroc.js';
export * from './report.js';
export * from './random.js';
export * from './special.js';
export * from './significance.js';
export * from './format.js';
