// MICD, commercial intent of influencer posts (Sánchez Villegas, Goanta and Aletras, "A Multimodal Analysis of
// Influencer Content on Twitter", AACL 2023; https://github.com/danaesavi/micd-influencer-content-twitter).
// Published layout: `data/data_key_mic.csv` with id, domain, year, month, label (1 commercial, 0 not
// commercial), split (train/val/test); the tweets must be rehydrated, which adds the 'text' column the EACL
// 2024 code reads (models/config.py: columns id, text, label, split; images `MIC/spc_imgs_twitter/{id}_1.jpg`).
// `text_data_mic.csv` (text-only test posts) is not read: these posts have no image.
import { requireDir } from '../paths.js';
import type { LoadOptions, LoadResult } from '../rows.js';
import { findKeyFile } from './keyfile.js';
import { loadKeyPosts } from './key-posts.js';

export const MICD_CLASSES = ['not-commercial', 'commercial'];

export function loadMicd(dir: string, opts: LoadOptions = {}): LoadResult {
  requireDir(dir, 'the MICD folder with data_key_mic.csv and spc_imgs_twitter/');
  const file = findKeyFile(
    dir,
    ['data_key_mic.csv', 'data/data_key_mic.csv'],
    null,
    'the MICD key CSV (id,domain,year,month,label,split plus the rehydrated text)',
  );
  return loadKeyPosts(
    {
      format: 'micd',
      root: dir,
      file,
      idColumns: ['id', 'tweet_id'],
      textHint: " (data_key_mic.csv is released without text: rehydrate the tweets and add it as column 'text')",
      imageDirs: ['spc_imgs_twitter', 'MIC/spc_imgs_twitter', 'images', ''],
      imageTemplates: ['{id}_1.jpg', '{id}.jpg', '{id}_1.png', '{id}.png'],
      label: (raw) => (raw === '1' ? 'commercial' : raw === '0' ? 'not-commercial' : null),
      classNames: MICD_CLASSES,
      extraColumns: ['domain', 'year', 'month'],
    },
    opts,
  );
}
