// TIR, text-image relation (Vempala and Preoţiuc-Pietro, "Categorizing and Inferring the Relationship between
// the Text and Image of Twitter Posts", ACL 2019; https://github.com/danielpreotiuc/text-image-relationship).
// Published layout: `textimage.csv` with tweet_id, text_is_represented, image_adds and the four one-hot
// columns image_adds_text_repr, image_adds_text_notrepr, image_notadds_text_repr, image_notadds_text_notrepr
// (the tweet text and images come from the authors on request); the EACL 2024 paper's code
// (danaesavi/SocialMedia-TextImage-Classification-AuxLosses) reads `data_key_imgtxt_random.csv`
// (index, tweet_id, user_id, text, the same label columns, split) and images `text-image/T{id}.jpg`.
// Tasks (variant): 'tir' (default; the four classes, from the one-hot columns or from the two binary ones),
// 'image-adds' and 'text-repr' (the two binary tasks). Ids a spreadsheet turned into '6.92094E+17' are
// dropped ('malformed-id'); rows whose label columns disagree are dropped ('inconsistent-label').
import { LoadBuilder, normaliseSplit } from '../build.js';
import { locateImage, requireDir } from '../paths.js';
import { DataError, type LoadOptions, type LoadResult } from '../rows.js';
import { findKeyFile, isTweetId, readKeyFile } from './keyfile.js';

export const TIR_CLASSES = [
  'image_adds_text_repr',
  'image_adds_text_notrepr',
  'image_notadds_text_repr',
  'image_notadds_text_notrepr',
];
const BINARY: Record<string, [string, string, string]> = {
  'image-adds': ['image_adds', 'image-does-not-add', 'image-adds'],
  'text-repr': ['text_is_represented', 'text-not-represented', 'text-represented'],
};

function bit(v: string | undefined): 0 | 1 | null {
  const t = (v ?? '').trim();
  if (t === '1' || t === '1.0') return 1;
  if (t === '0' || t === '0.0') return 0;
  return null;
}

export function loadTir(dir: string, opts: LoadOptions = {}): LoadResult {
  requireDir(dir, 'the TIR folder with its key CSV and text-image/ images');
  const variant = opts.variant ?? 'tir';
  if (variant !== 'tir' && !(variant in BINARY))
    throw new DataError(`tir: unknown variant '${variant}' (expected tir, image-adds or text-repr)`);
  const file = findKeyFile(
    dir,
    ['data_key_imgtxt_random.csv', 'textimage-data.csv', 'textimage.csv'],
    /^data_key_imgtxt.*\.csv$/,
    'the TIR key CSV',
  );
  const key = readKeyFile(
    file,
    [['tweet_id'], ['text']],
    " (TIR's public textimage.csv carries no text: add the rehydrated tweet text as column 'text')",
    opts.textEncoding,
  );
  const hasSplit = key.header.includes('split');
  const hasOneHot = TIR_CLASSES.every((c) => key.header.includes(c));
  if (!hasOneHot) {
    key.col(['image_adds']);
    key.col(['text_is_represented']);
  }
  const b = new LoadBuilder('tir', dir, opts);
  b.fromFileEncoded(key.encoding);
  for (const r of key.rows) {
    const id = (r.get('tweet_id') ?? '').trim();
    if (!isTweetId(id)) {
      b.drop('malformed-id', 1, { id, detail: `not a tweet id: '${id}'` });
      continue;
    }
    const adds = bit(r.get('image_adds'));
    const repr = bit(r.get('text_is_represented'));
    let label: string | null = null;
    if (variant === 'tir') {
      if (hasOneHot) {
        const bits = TIR_CLASSES.map((c) => bit(r.get(c)));
        const ones = bits.flatMap((v, k) => (v === 1 ? [k] : []));
        if (bits.some((v) => v === null)) throw new DataError(`${r.at}: the four class columns must be 0 or 1`);
        if (ones.length === 1) label = TIR_CLASSES[ones[0]!]!;
        // the one-hot class must agree with the binary columns when they are there
        if (label !== null && adds !== null && repr !== null) {
          const implied = TIR_CLASSES[(adds ? 0 : 2) + (repr ? 0 : 1)]!;
          if (implied !== label) label = null;
        }
      } else if (adds !== null && repr !== null) {
        label = TIR_CLASSES[(adds ? 0 : 2) + (repr ? 0 : 1)]!;
      }
    } else {
      const [colName, no, yes] = BINARY[variant]!;
      const v = bit(r.get(colName));
      label = v === null ? null : v ? yes : no;
    }
    if (label === null) {
      b.drop('inconsistent-label', 1, { id });
      continue;
    }
    const text = r.get('text') ?? '';
    const image = locateImage(
      dir,
      id,
      ['text-image', 'images', 'image', ''],
      ['T{id}.jpg', '{id}.jpg', 'T{id}.png', '{id}.png'],
    );
    const extra: Record<string, unknown> = {};
    if (adds !== null) extra.image_adds = adds;
    if (repr !== null) extra.text_is_represented = repr;
    const row = {
      id,
      text: text.trim(),
      image,
      label,
      extra,
      ...(hasSplit ? { split: normaliseSplit(r.get('split') ?? '') } : {}),
    };
    if (hasSplit && row.split === '') throw new DataError(`${r.at}: empty 'split'`);
    b.add(row);
  }
  b.notes.push(`task ${variant}`);
  const classes = variant === 'tir' ? TIR_CLASSES : [BINARY[variant]![1], BINARY[variant]![2]];
  return hasSplit ? b.finishOfficial(classes) : b.finishSeeded(dir, classes);
}
