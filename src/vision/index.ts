// Image inputs as Hugging Face image processors make them: decode, resize, crop, rescale, normalise.
export { type RgbImage, type PixelImage } from './image.js';
export { decodeImage, ImageDecodeError, DEFAULT_MAX_PIXELS, type DecodeOptions } from './decode.js';
export { inProcessDecoder } from './native-image.js';
export { resizePil, resampleName, PIL_RESAMPLE, type ResampleName } from './resample.js';
export { resizeTorchvision, type TorchResample } from './resample-torch.js';
export {
  centerCrop,
  toPixelValues,
  shortestEdgeSize,
  shortestLongestEdgeSize,
  viltSize,
  type Backend,
  type FloatOptions,
} from './transforms.js';
export {
  parseImageProcessorConfig,
  loadImageProcessorConfig,
  processImage,
  processImages,
  resizedSize,
  familyOfType,
  type ImageProcessorConfig,
  type ProcessorFamily,
  type PixelBatch,
  type ProcessOptions,
  type SizeDict,
} from './processor.js';
