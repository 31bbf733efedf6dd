// Pickle-based weight files (PyTorch .bin/.pt/.pth/.ckpt, .pkl) are never read: unpickling runs arbitrary
// code. This module recognises them so every loader can refuse them with the same advice.

/** pytorch_model.bin and its shard index, and any file with a pickle extension. */
const PICKLE_FILE_RE = /(^|[\\/])(pytorch_model\.bin\.index\.json|[^\\/]*\.(bin|pt|pth|ckpt|pkl|pickle))$/i;

export function isPickleFile(path: string): boolean {
  return PICKLE_FILE_RE.test(path);
}

/** The advice given wherever pickle weights turn up; `found` names the file(s). */
export function pickleAdvice(found: string): string {
  return (
    `${found}: PyTorch pickle weights; tandem reads weights only from safetensors, because unpickling can run arbitrary code. ` +
    `Convert once in Python: \`from transformers import AutoModel; AutoModel.from_pretrained(DIR).save_pretrained(DIR, safe_serialization=True)\` ` +
    `(with the model's own Auto class), or use a Hub revision that has model.safetensors.`
  );
}
