// The registry of dataset formats: name -> loader, with a one-line description and the variants each accepts.
import { loadGeneric } from '../generic.js';
import { DataError, type LoadOptions, type LoadResult } from '../rows.js';
import { loadHatefulMemes } from './hateful-memes.js';
import { loadMhp } from './mhp.js';
import { loadMicd } from './micd.js';
import { loadMmhs150k } from './mmhs150k.js';
import { loadMmsd2 } from './mmsd2.js';
import { loadMsd } from './msd.js';
import { loadMvsaMultiple, loadMvsaSingle } from './mvsa.js';
import { loadPaperKey } from './paper-key.js';
import { loadTir } from './tir.js';

export type Loader = (dir: string, opts?: LoadOptions) => LoadResult;

export interface FormatInfo {
  load: Loader;
  description: string;
  /** Accepted values of LoadOptions.variant; the first is the default. */
  variants?: string[];
}

export const FORMATS: Record<string, FormatInfo> = {
  'mvsa-single': { load: loadMvsaSingle, description: 'MVSA-Single sentiment (labelResultAll.txt, data/<id>.txt|jpg)' },
  'mvsa-multiple': {
    load: loadMvsaMultiple,
    description: 'MVSA-Multiple sentiment, 3 annotators (majority per modality)',
  },
  msd: {
    load: loadMsd,
    description: 'multimodal sarcasm (text/*.txt list literals, dataset_image/)',
    variants: ['filtered', 'unfiltered'],
  },
  mmsd2: {
    load: loadMmsd2,
    description: 'MMSD2.0 sarcasm (text_json_final/*.json, dataset_image/)',
    variants: ['final', 'clean'],
  },
  tir: {
    load: loadTir,
    description: 'text-image relation (key CSV, text-image/T<id>.jpg)',
    variants: ['tir', 'image-adds', 'text-repr'],
  },
  mhp: { load: loadMhp, description: 'multimodal hate (data_key_mhp.csv, Data/Images/)' },
  micd: { load: loadMicd, description: 'commercial intent (data_key_mic.csv with text, spc_imgs_twitter/<id>_1.jpg)' },
  'hateful-memes': {
    load: loadHatefulMemes,
    description: 'Hateful Memes (img/, train.jsonl, dev_*.jsonl, test_*.jsonl)',
    variants: ['seen', 'unseen'],
  },
  mmhs150k: {
    load: loadMmhs150k,
    description: 'MMHS150K (MMHS150K_GT.json, img_resized/, img_txt/, splits/)',
    variants: ['binary', 'six-way'],
  },
  'paper-key': { load: loadPaperKey, description: "the EACL 2024 paper's key CSV (tweet_id,text,label,split)" },
  generic: { load: loadGeneric, description: "tandem's own JSONL/CSV (id,text,image,label|labels,split)" },
};

export const FORMAT_NAMES = Object.keys(FORMATS);

/**
 * Loads a dataset folder in the named format: the entry point for training (`--data <dir> --format <name>`).
 * Throws DataError for problems with the data (malformed line, missing file, escaping path).
 */
export function loadDataset(format: string, dir: string, opts: LoadOptions = {}): LoadResult {
  const f = FORMATS[format];
  if (!f) throw new DataError(`unknown format '${format}' (expected one of ${FORMAT_NAMES.join(', ')})`);
  return f.load(dir, opts);
}
