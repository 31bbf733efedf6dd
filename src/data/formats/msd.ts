// MSD, multimodal sarcasm detection (Cai, Cai and Wan, "Multi-Modal Sarcasm Detection in Twitter with
// Hierarchical Fusion Model", ACL 2019; https://github.com/headacheboy/data-of-multimodal-sarcasm-detection).
// Published layout: `text/train.txt`, `text/valid2.txt`, `text/test2.txt` (older copies: `valid.txt`,
// `test.txt`, also at the top level), one Python list literal per line, and `dataset_image/<id>.jpg`.
// Two label layouts (text/Readme.MD): `[id, text, label]` (training set: the last element is the label) and
// `[id, text, hashtag_label, label]` (validation and test: the last but one is the hashtag label of the
// original post, the last one a human annotator's; we use the last one and keep the other as
// extra.label_hashtag). As the authors' loader (codes/loadData.py) does, posts whose text contains one of the
// words sarcasm, sarcastic, reposting, <url>, joke, jokes, humour, humor, irony, ironic, exgag are dropped
// ('sarcasm-keyword'); variant 'unfiltered' keeps them. Thousands of posts have no image: the missing-image
// policy decides.
import { join } from 'node:path';
import { LoadBuilder } from '../build.js';
import { findWithExt, firstDir, firstFile, IMAGE_EXTS, requireDir } from '../paths.js';
import { parsePyList } from '../pylist.js';
import { DataError, type LoadOptions, type LoadResult } from '../rows.js';
import { readTextFile } from '../text-decode.js';

export const SARCASM_CLASSES = ['non-sarcastic', 'sarcastic'];
const KEYWORDS = new Set([
  'sarcasm',
  'sarcastic',
  'reposting',
  '<url>',
  'joke',
  'humour',
  'humor',
  'jokes',
  'irony',
  'ironic',
  'exgag',
]);

/** 0/1 (or '0'/'1', False/True) to the class name; null otherwise. */
export function sarcasmLabel(v: unknown): string | null {
  if (v === 1 || v === '1' || v === true) return 'sarcastic';
  if (v === 0 || v === '0' || v === false) return 'non-sarcastic';
  return null;
}

export function loadMsd(dir: string, opts: LoadOptions = {}): LoadResult {
  requireDir(dir, 'the MSD folder with text/ and dataset_image/');
  const variant = opts.variant ?? 'filtered';
  if (variant !== 'filtered' && variant !== 'unfiltered')
    throw new DataError(`msd: unknown variant '${variant}' (expected filtered or unfiltered)`);
  const textRoots = ['text/', ''];
  const pick = (names: string[]): string | null =>
    firstFile(
      dir,
      textRoots.flatMap((r) => names.map((n) => r + n)),
    );
  const files: [string, string | null][] = [
    ['train', pick(['train.txt'])],
    ['dev', pick(['valid2.txt', 'valid.txt'])],
    ['test', pick(['test2.txt', 'test.txt'])],
  ];
  for (const [split, f] of files) {
    if (!f)
      throw new DataError(
        `${dir}: no ${split === 'train' ? 'text/train.txt' : split === 'dev' ? 'text/valid2.txt (or valid.txt)' : 'text/test2.txt (or test.txt)'} found (expected the MSD text files)`,
      );
  }
  const imgDir = firstDir(dir, ['dataset_image', 'images', 'image']) ?? join(dir, 'dataset_image');
  const b = new LoadBuilder('msd', dir, opts);
  for (const [split, file] of files as [string, string][]) {
    const decoded = readTextFile(file, opts.textEncoding);
    b.fromFileEncoded(decoded.encoding);
    const lines = decoded.text.split(/\r?\n/);
    lines.forEach((raw, i) => {
      if (raw.trim() === '') return;
      const at = `${file}:${i + 1}`;
      let items;
      try {
        items = parsePyList(raw.trim());
      } catch (e) {
        throw new DataError(`${at}: expected a list like ['id', 'text', label]: ${(e as Error).message}`);
      }
      if (items.length !== 3 && items.length !== 4)
        throw new DataError(
          `${at}: expected 3 or 4 elements [id, text, (hashtag label,) label], found ${items.length}`,
        );
      const [idv, textv] = items;
      if ((typeof idv !== 'string' && typeof idv !== 'number') || !/^\d+$/.test(String(idv)))
        throw new DataError(`${at}: first element must be the numeric post id`);
      if (typeof textv !== 'string') throw new DataError(`${at}: second element must be the text`);
      const label = sarcasmLabel(items[items.length - 1]);
      if (label === null)
        throw new DataError(
          `${at}: last element must be the label 0 or 1, found ${JSON.stringify(items[items.length - 1])}`,
        );
      if (variant === 'filtered' && textv.split(/\s+/).some((w) => KEYWORDS.has(w))) {
        b.drop('sarcasm-keyword', 1, { id: String(idv) });
        return;
      }
      const id = String(idv);
      const extra: Record<string, unknown> = {};
      if (items.length === 4) {
        const h = sarcasmLabel(items[2]);
        if (h === null) throw new DataError(`${at}: third element must be the hashtag label 0 or 1`);
        extra.label_hashtag = h;
      }
      const image = findWithExt(imgDir, id, IMAGE_EXTS) ?? join(imgDir, `${id}.jpg`);
      b.add({ id, text: textv.trim(), image, label, split, ...(Object.keys(extra).length ? { extra } : {}) });
    });
  }
  if (variant === 'filtered' && b.dropped['sarcasm-keyword']) {
    b.notes.push(
      `${b.dropped['sarcasm-keyword']} posts dropped for sarcasm keywords, as Cai et al.'s loader does (variant 'unfiltered' keeps them)`,
    );
  }
  return b.finishOfficial(SARCASM_CLASSES);
}
