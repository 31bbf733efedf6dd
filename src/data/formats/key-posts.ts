// The common shape of the key-file formats (MHP, MICD, the paper's own keys): one CSV row per post with an id,
// the text, a label and usually a split, and one image per id in a known folder.
import { LoadBuilder, normaliseSplit } from '../build.js';
import { locateImage, plainName } from '../paths.js';
import { DataError, type LoadOptions, type LoadResult } from '../rows.js';
import { readKeyFile } from './keyfile.js';

export interface KeyPostsSpec {
  format: string;
  /** Folder the images are looked up from (usually the dataset folder). */
  root: string;
  file: string;
  idColumns: readonly string[];
  textHint: string;
  /** Candidate image folders (relative to root) and file-name templates with {id}. */
  imageDirs: readonly string[];
  imageTemplates: readonly string[];
  /** Maps a raw label to a class name; null: not a valid label (an error naming the line). */
  label: (raw: string) => string | null;
  classNames?: string[];
  /** Columns copied into extra (all other columns except id/text/label/split when undefined). */
  extraColumns?: readonly string[];
}

export function loadKeyPosts(spec: KeyPostsSpec, opts: LoadOptions): LoadResult {
  const key = readKeyFile(spec.file, [spec.idColumns, ['text'], ['label']], spec.textHint, opts.textEncoding);
  const idCol = key.col(spec.idColumns);
  const hasSplit = key.header.includes('split');
  const skip = new Set([idCol, 'text', 'label', 'split', '']);
  const extraCols = spec.extraColumns ?? key.header.filter((h) => !skip.has(h));
  const b = new LoadBuilder(spec.format, spec.root, opts);
  b.fromFileEncoded(key.encoding);
  for (const r of key.rows) {
    const id = (r.get(idCol) ?? '').trim();
    if (id === '') throw new DataError(`${r.at}: empty '${idCol}'`);
    plainName(id, `${r.at} column '${idCol}'`);
    const rawLabel = (r.get('label') ?? '').trim();
    if (rawLabel === '') {
      b.drop('unlabelled', 1, { id });
      continue;
    }
    const label = spec.label(rawLabel);
    if (label === null)
      throw new DataError(
        `${r.at}: unexpected label '${rawLabel}'${spec.classNames ? ` (expected one of ${spec.classNames.join(', ')})` : ''}`,
      );
    const extra: Record<string, unknown> = {};
    for (const c of extraCols) {
      const v = r.get(c);
      if (v !== undefined && v !== '') extra[c] = v;
    }
    let split: string | undefined;
    if (hasSplit) {
      split = normaliseSplit(r.get('split') ?? '');
      if (split === '') throw new DataError(`${r.at}: empty 'split'`);
    }
    const image = locateImage(spec.root, id, spec.imageDirs, spec.imageTemplates);
    b.add({
      id,
      text: (r.get('text') ?? '').trim(),
      image,
      label,
      ...(split ? { split } : {}),
      ...(Object.keys(extra).length ? { extra } : {}),
    });
  }
  return hasSplit ? b.finishOfficial(spec.classNames) : b.finishSeeded(spec.root, spec.classNames);
}
