// Inference: a trained run or checkpoint opened for prediction, posts batched through its encoder,
// probabilities and labelled predictions, and metrics of predictions. Sits between train/ (which uses it for
// its evaluations) and the users of trained models (evaluate, predict, serve); it never imports train/.
export { runPaths, readRunSettings, type RunSettings } from './run-folder.js';
export { fillMissingImages } from './blank-image.js';
export { checkpointInputs, makeEncoder, openRun, type InputFolders, type LoadedRun } from './load.js';
export {
  predictBatch,
  predictAll,
  labelPrediction,
  labelPredictions,
  type Predictions,
  type LabelledPrediction,
} from './predict.js';
export { metricsOf } from './metrics.js';
export { decodePost, batchOfDecoded, type DecodedPost } from './in-memory.js';
