// Data types shared by the engine, safetensors and everything above. Names follow PyTorch's.
export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'uint8' | 'bool';

export const DTYPES: readonly DType[] = [
  'float32',
  'float64',
  'float16',
  'bfloat16',
  'int64',
  'int32',
  'uint8',
  'bool',
];

/** Bytes per element. */
export const DTYPE_SIZE: Record<DType, number> = {
  float32: 4,
  float64: 8,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  uint8: 1,
  bool: 1,
};

/** Code shared with native/common.h (the order of this list is the ABI). */
export const DTYPE_CODE: Record<DType, number> = {
  float32: 0,
  float64: 1,
  float16: 2,
  bfloat16: 3,
  int64: 4,
  int32: 5,
  uint8: 6,
  bool: 7,
};

export function isFloating(d: DType): boolean {
  return d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
}

export function assertDType(d: string, where: string): DType {
  if ((DTYPES as readonly string[]).includes(d)) return d as DType;
  throw new TypeError(`${where}: unknown dtype '${d}' (expected one of ${DTYPES.join(', ')})`);
}
