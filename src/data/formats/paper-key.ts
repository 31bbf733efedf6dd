// The key files of the EACL 2024 paper's released code (Sánchez Villegas, Preoţiuc-Pietro and Aletras;
// https://github.com/danaesavi/SocialMedia-TextImage-Classification-AuxLosses, data/data_key_*.csv and
// models/config.py): a CSV `tweet_id,text,label,split` (extra columns such as label_auto kept in extra) with one
// image per id. Point it at the CSV itself or at a folder holding exactly one data_key_*.csv. Images
// are looked up beside the CSV and in images/, data/, dataset_image/, img/ as {id}.jpg / {id}.png (also the
// paper's T{id}.jpg and {id}_1.jpg names). Labels are kept as written.
import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LoadOptions, LoadResult } from '../rows.js';
import { findKeyFile } from './keyfile.js';
import { loadKeyPosts } from './key-posts.js';

export function loadPaperKey(dirOrFile: string, opts: LoadOptions = {}): LoadResult {
  const isDir = statSync(dirOrFile).isDirectory();
  const file = isDir
    ? findKeyFile(dirOrFile, [], /^data_key_.*\.csv$/, 'one data_key_*.csv (tweet_id,text,label,split)')
    : dirOrFile;
  const root = isDir ? dirOrFile : dirname(dirOrFile);
  return loadKeyPosts(
    {
      format: 'paper-key',
      root,
      file,
      idColumns: ['tweet_id', 'id'],
      textHint: '',
      imageDirs: ['', 'images', 'data', 'dataset_image', 'img'],
      imageTemplates: ['{id}.jpg', '{id}.png', 'T{id}.jpg', '{id}_1.jpg', '{id}.jpeg'],
      label: (raw) => raw,
    },
    opts,
  );
}
