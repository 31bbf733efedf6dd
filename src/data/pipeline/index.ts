// The training data pipeline: rows -> PostBatch (text, images, labels, content keys), the bad-row policy,
// a deterministic resumable prefetching loader, and the frozen-feature disk cache.
export {
  PostEncoder,
  toPostBatch,
  disposeBatch,
  DEFAULT_MAX_LENGTH,
  type PostEncoderOptions,
  type HostBatch,
} from './encoder.js';
export {
  BatchLoader,
  DEFAULT_SEED,
  DEFAULT_PREFETCH,
  type BatchLoaderOptions,
  type LoaderState,
  type FeatureSource,
} from './loader.js';
export { validateRows, validateRowsDecoding, type ValidationResult } from './validate.js';
export {
  BadRowError,
  BadRowLog,
  BAD_ROW_POLICIES,
  badRow,
  describeBadRow,
  type BadRow,
  type BadRowPolicy,
  type BadRowReason,
} from './bad-rows.js';
export { FeatureCache, type FeatureCacheOptions } from './feature-cache.js';
export { ImagePool, defaultWorkerCount } from './image-pool.js';
export { textKey, canonicalText, imageFileKey, configHash, sha1Hex } from './keys.js';
