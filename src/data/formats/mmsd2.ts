// MMSD2.0 (Qin et al., "MMSD2.0: Towards a Reliable Multi-modal Sarcasm Detection System", Findings of ACL
// 2023; https://github.com/JoeYing1019/MMSD2.0). Published layout: `text_json_final/{train,valid,test}.json`
// (the re-annotated MMSD2.0; `text_json_clean/` holds the original labels with spurious cues removed: variant
// 'clean'), each a JSON array of {"image_id", "text", "label": 0|1}, and MSD's images `dataset_image/<id>.jpg`
// (as in e.g. Farabi-shafkat/MultiViewClip's README). The repository nests both under `data/`, some copies put
// the images in `Image/dataset_image/`; these and top-level train/valid/test.json are accepted as well.
import { join } from 'node:path';
import { LoadBuilder } from '../build.js';
import { readJsonFile } from '../json-file.js';
import { findWithExt, firstDir, firstFile, IMAGE_EXTS, requireDir } from '../paths.js';
import { DataError, type LoadOptions, type LoadResult } from '../rows.js';
import { SARCASM_CLASSES, sarcasmLabel } from './msd.js';

export function loadMmsd2(dir: string, opts: LoadOptions = {}): LoadResult {
  requireDir(dir, 'the MMSD2.0 folder with text_json_final/ and dataset_image/');
  const variant = opts.variant ?? 'final';
  if (variant !== 'final' && variant !== 'clean')
    throw new DataError(`mmsd2: unknown variant '${variant}' (expected final or clean)`);
  const sub = variant === 'final' ? 'text_json_final/' : 'text_json_clean/';
  const imgDir =
    firstDir(dir, ['dataset_image', 'data/dataset_image', 'Image/dataset_image', 'images', 'image']) ??
    join(dir, 'dataset_image');
  const b = new LoadBuilder('mmsd2', dir, opts);
  for (const [split, names] of [
    ['train', ['train.json']],
    ['dev', ['valid.json', 'val.json', 'dev.json']],
    ['test', ['test.json']],
  ] as const) {
    const file = firstFile(dir, [...names.map((n) => sub + n), ...names.map((n) => 'data/' + sub + n), ...names]);
    if (!file) throw new DataError(`${dir}: ${sub}${names[0]} not found (expected the MMSD2.0 JSON files)`);
    const data = readJsonFile(file, ['image_id', 'id']);
    if (!Array.isArray(data)) throw new DataError(`${file}: expected a JSON array of {image_id, text, label}`);
    data.forEach((e: unknown, k) => {
      const at = `${file}: entry ${k}`;
      if (typeof e !== 'object' || e === null) throw new DataError(`${at}: expected an object`);
      const o = e as Record<string, unknown>;
      const id = o.image_id ?? o.id;
      if ((typeof id !== 'string' && typeof id !== 'number') || String(id) === '')
        throw new DataError(`${at}: missing 'image_id'`);
      if (typeof o.text !== 'string') throw new DataError(`${at}: missing 'text'`);
      const label = sarcasmLabel(o.label);
      if (label === null) throw new DataError(`${at}: 'label' must be 0 or 1, found ${JSON.stringify(o.label)}`);
      const sid = String(id);
      if (/[/\\]/.test(sid) || sid.startsWith('..'))
        throw new DataError(`${at}: image_id '${sid}' is not a plain file name; refused`);
      const image = findWithExt(imgDir, sid, IMAGE_EXTS) ?? join(imgDir, `${sid}.jpg`);
      b.add({ id: sid, text: o.text.trim(), image, label, split });
    });
  }
  b.notes.push(`labels from ${sub.slice(0, -1)}`);
  return b.finishOfficial(SARCASM_CLASSES);
}
