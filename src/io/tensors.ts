// Bridges safetensors files and engine tensors: load named tensors (one at a time, so a model is never held
// twice in memory) and save tensors atomically.
import { fromBuffer, Tensor } from '../tensor/index.js';
import { openCheckpoint, writeSafetensors, type TensorSource } from './safetensors.js';

/** Reads tensors from a source (all, or the given names) as CPU tensors. */
export function loadTensors(source: TensorSource, names: string[] = source.names()): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const n of names) {
    const info = source.info(n);
    out.set(n, fromBuffer(source.read(n), info.dtype, info.shape));
  }
  return out;
}

/** Reads every tensor of a .safetensors file, a sharded index, or a model folder. */
export function loadSafetensorsFile(path: string): { tensors: Map<string, Tensor>; metadata: Record<string, string> } {
  const src = openCheckpoint(path);
  try {
    return { tensors: loadTensors(src), metadata: src.metadata };
  } finally {
    src.close();
  }
}

/**
 * Calls fn(name, tensor) for each tensor of a source, disposing each tensor right after: copying a
 * checkpoint into a model this way holds one tensor at a time beside the model.
 */
export function forEachTensor(
  source: TensorSource,
  fn: (name: string, t: Tensor) => void,
  names: string[] = source.names(),
): void {
  for (const n of names) {
    const info = source.info(n);
    const t = fromBuffer(source.read(n), info.dtype, info.shape);
    try {
      fn(n, t);
    } finally {
      t.dispose();
    }
  }
}

/** Writes tensors (any device; contiguous copies are made as needed) to a safetensors file atomically. */
export function saveTensors(
  path: string,
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata?: Record<string, string>,
): void {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const out: Record<string, { dtype: Tensor['dtype']; shape: number[]; data: ArrayBufferView }> = {};
  for (const [n, t] of entries) out[n] = { dtype: t.dtype, shape: t.shape, data: t.bytes() };
  writeSafetensors(path, out, metadata);
}
