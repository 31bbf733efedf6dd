// MMHS150K (Gomez, Gibert, Gomez and Karatzas, "Exploring Hate Speech Detection in Multimodal Publications",
// WACV 2020; https://gombru.github.io/2019/10/09/MMHS/). Published layout (the archive's README):
// `MMHS150K_GT.json` (a dict tweet id -> {tweet_url, img_url, tweet_text, labels: three annotators' labels
// 0 NotHate, 1 Racist, 2 Sexist, 3 Homophobe, 4 Religion, 5 OtherHate, labels_str}), `img_resized/<id>.jpg`,
// `img_txt/<id>.json` ({"img_text": OCR text}, only for images with text) and `splits/{train,val,test}_ids.txt`.
// Labels (variant): 'binary' (default): hate when at least two of the three annotators gave a hate class, as the
// paper does; 'six-way': the class at least two annotators agree on (no such class: dropped, 'no-majority').
// Annotator votes and the OCR text are kept in extra (annotator_labels, ocr_text).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LoadBuilder } from '../build.js';
import { readJsonFile } from '../json-file.js';
import { findWithExt, isFile, requireDir } from '../paths.js';
import { DataError, type LoadOptions, type LoadResult } from '../rows.js';
import { majority } from './mvsa.js';

export const MMHS_CLASSES = ['NotHate', 'Racist', 'Sexist', 'Homophobe', 'Religion', 'OtherHate'];
export const MMHS_BINARY = ['not-hate', 'hate'];

export function loadMmhs150k(dir: string, opts: LoadOptions = {}): LoadResult {
  requireDir(dir, 'the MMHS150K folder with MMHS150K_GT.json, img_resized/, img_txt/ and splits/');
  const variant = opts.variant ?? 'binary';
  if (variant !== 'binary' && variant !== 'six-way')
    throw new DataError(`mmhs150k: unknown variant '${variant}' (expected binary or six-way)`);
  const gtFile = join(dir, 'MMHS150K_GT.json');
  if (!isFile(gtFile)) throw new DataError(`${dir}: MMHS150K_GT.json not found (expected the MMHS150K annotations)`);
  const gt = readJsonFile(gtFile);
  if (typeof gt !== 'object' || gt === null || Array.isArray(gt))
    throw new DataError(`${gtFile}: expected an object tweet id -> annotation`);
  const ann = gt as Record<string, Record<string, unknown>>;
  const imgDir = join(dir, 'img_resized');
  const ocrDir = join(dir, 'img_txt');
  const b = new LoadBuilder('mmhs150k', dir, opts);
  const inSplit = new Set<string>();
  for (const [split, name] of [
    ['train', 'train_ids.txt'],
    ['dev', 'val_ids.txt'],
    ['test', 'test_ids.txt'],
  ] as const) {
    const file = join(dir, 'splits', name);
    if (!isFile(file)) throw new DataError(`${dir}: splits/${name} not found (expected the MMHS150K ${split} ids)`);
    readFileSync(file, 'utf8')
      .split(/\r?\n/)
      .forEach((line, i) => {
        const id = line.split('\t')[0]!.trim();
        if (id === '') return;
        const at = `${file}:${i + 1}`;
        if (!/^\d+$/.test(id)) throw new DataError(`${at}: expected a tweet id, found '${id}'`);
        inSplit.add(id);
        const a = ann[id];
        if (!a) {
          b.drop('missing-annotation', 1, { id });
          return;
        }
        const votes = a.labels;
        if (!Array.isArray(votes) || votes.length === 0 || votes.some((v) => !Number.isInteger(v) || v < 0 || v > 5)) {
          throw new DataError(`${gtFile}: tweet ${id}: 'labels' must be a list of the annotators' labels 0-5`);
        }
        const nums = votes as number[];
        let label: string | null;
        if (variant === 'binary') {
          label = nums.filter((v) => v !== 0).length * 2 > nums.length ? 'hate' : 'not-hate';
        } else {
          const m = majority(nums.map((v) => MMHS_CLASSES[v]!));
          label = m;
        }
        if (label === null) {
          b.drop('no-majority', 1, { id });
          return;
        }
        if (typeof a.tweet_text !== 'string') throw new DataError(`${gtFile}: tweet ${id}: missing 'tweet_text'`);
        const extra: Record<string, unknown> = { annotator_labels: nums.map((v) => MMHS_CLASSES[v]) };
        const ocrFile = join(ocrDir, `${id}.json`);
        if (isFile(ocrFile)) {
          const o = readJsonFile(ocrFile) as Record<string, unknown> | null;
          if (o && typeof o.img_text === 'string') extra.ocr_text = o.img_text;
        }
        const image = findWithExt(imgDir, id, ['.jpg', '.png', '.jpeg']) ?? join(imgDir, `${id}.jpg`);
        b.add({ id, text: a.tweet_text.trim(), image, label, split, extra });
      });
  }
  const outside = Object.keys(ann).filter((id) => !inSplit.has(id)).length;
  if (outside) b.drop('not-in-split', outside);
  b.notes.push(`labels: ${variant}`);
  return b.finishOfficial(variant === 'binary' ? MMHS_BINARY : MMHS_CLASSES);
}
