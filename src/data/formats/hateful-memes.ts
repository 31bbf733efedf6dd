// Hateful Memes (Kiela et al., "The Hateful Memes Challenge: Detecting Hate Speech in Multimodal Memes",
// NeurIPS 2020; https://ai.facebook.com/blog/hateful-memes-challenge-and-data-set/). Published layout: `img/`,
// `train.jsonl`, `dev_seen.jsonl`, `dev_unseen.jsonl`, `test_seen.jsonl`, `test_unseen.jsonl` (phase 1:
// `dev.jsonl`, `test.jsonl` without labels), one JSON object per line: {"id", "img": "img/<id>.png",
// "label": 0|1, "text"} (e.g. the layout in sahajps/Labels-or-Input's Data/README.md). The Kaggle copy nests it
// all in `data/`, which is accepted. Variant 'seen' (default): train / dev_seen / test_seen; 'unseen': train /
// dev_unseen / test_unseen (the phase-2 sets). Posts without a label (phase-1 test) are dropped ('unlabelled').
// The img field is a path inside the dataset folder; one that leaves it is refused.
import { readFileSync } from 'node:fs';
import { LoadBuilder } from '../build.js';
import { quoteIntegerFields } from '../json-file.js';
import { firstDir, firstFile, requireDir, resolveInside } from '../paths.js';
import { DataError, type LoadOptions, type LoadResult } from '../rows.js';

export const HATEFUL_CLASSES = ['not-hateful', 'hateful'];

export function loadHatefulMemes(dir: string, opts: LoadOptions = {}): LoadResult {
  requireDir(dir, 'the Hateful Memes folder with img/ and train.jsonl');
  const root = firstFile(dir, ['train.jsonl']) ? dir : (firstDir(dir, ['data', 'hateful_memes']) ?? dir);
  const variant = opts.variant ?? 'seen';
  if (variant !== 'seen' && variant !== 'unseen')
    throw new DataError(`hateful-memes: unknown variant '${variant}' (expected seen or unseen)`);
  const sets: [string, string[]][] =
    variant === 'seen'
      ? [
          ['train', ['train.jsonl']],
          ['dev', ['dev_seen.jsonl', 'dev.jsonl']],
          ['test', ['test_seen.jsonl']],
        ]
      : [
          ['train', ['train.jsonl']],
          ['dev', ['dev_unseen.jsonl']],
          ['test', ['test_unseen.jsonl']],
        ];
  const b = new LoadBuilder('hateful-memes', dir, opts);
  for (const [split, names] of sets) {
    const file = firstFile(root, names);
    if (!file) {
      if (split === 'test') {
        b.notes.push(`no ${names.join(' or ')}: no test split`);
        continue;
      }
      throw new DataError(`${root}: ${names.join(' or ')} not found (expected the Hateful Memes ${split} file)`);
    }
    readFileSync(file, 'utf8')
      .split(/\r?\n/)
      .forEach((line, i) => {
        if (line.trim() === '') return;
        const at = `${file}:${i + 1}`;
        let o: Record<string, unknown>;
        try {
          o = JSON.parse(quoteIntegerFields(line, ['id'])) as Record<string, unknown>;
        } catch (e) {
          throw new DataError(`${at}: not valid JSON (${(e as Error).message})`);
        }
        if (typeof o !== 'object' || o === null) throw new DataError(`${at}: expected a JSON object`);
        if (typeof o.id !== 'number' && typeof o.id !== 'string') throw new DataError(`${at}: missing 'id'`);
        if (typeof o.img !== 'string') throw new DataError(`${at}: missing 'img' (expected a path like img/<id>.png)`);
        if (typeof o.text !== 'string') throw new DataError(`${at}: missing 'text'`);
        const image = resolveInside(root, o.img, `${at} field 'img'`);
        if (o.label === undefined || o.label === null) {
          b.drop('unlabelled', 1, { id: String(o.id) });
          return;
        }
        if (o.label !== 0 && o.label !== 1)
          throw new DataError(`${at}: 'label' must be 0 or 1, found ${JSON.stringify(o.label)}`);
        const id = String(o.id);
        b.add({ id, text: o.text, image, label: HATEFUL_CLASSES[o.label]!, split });
      });
  }
  b.notes.push(`variant ${variant}`);
  return b.finishOfficial(HATEFUL_CLASSES);
}
