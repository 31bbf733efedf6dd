// The engine pieces the optimisers use (one import site keeps the layer boundary visible).
export { keep, noGrad, stack, zerosLike, Tensor } from '../tensor/index.js';
export { N } from '../tensor/native.js';
