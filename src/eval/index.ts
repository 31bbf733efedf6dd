// Evaluation: classification metrics (scikit-learn's definitions), AUROC, significance tests, text reports.
export { presentLabels, type Labels } from './labels.js';
export * from './numeric.js';
export * from './classification.js';
export * from './multilabel.js';
export * from './auroc.js';
export * from './report.js';
// The resampling tests' seeded generator, from the lowest layer, for library users of this namespace.
export { SeededRandom } from '../runtime/random.js';
export * from './special.js';
export * from './significance.js';
export * from './format.js';
export * from './multiple-testing.js';
