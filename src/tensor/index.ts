// The engine's public surface: import * as T from './tensor/index.js' or named imports.
export * from './dtype.js';
export { Tensor, type Reduction, type AnyTypedArray } from './tensor.js';
export { DEVICE_PATTERN, isDevice, parseDevice, type Device } from './device.js';
export * from './create.js';
export * from './runtime.js';
export { tidy, keep, dispose, scopeDepth } from './scope.js';
export * as F from './functional.js';
export type { Activation } from './functional.js';
export * from './autocast.js';
