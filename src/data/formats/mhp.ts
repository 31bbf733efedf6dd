// MHP, multimodal hate (Botelho, Vidgen and Hale, "Deciphering Implicit Hate: Evaluating Automated Detection
// Algorithms for Multimodal Hate", Findings of ACL 2021; data: https://zenodo.org/record/5123567).
// The EACL 2024 paper's code (danaesavi/SocialMedia-TextImage-Classification-AuxLosses, models/config.py) reads
// `data_key_mhp.csv` (tweet_id, text, label, split; four classes) and images `MHP/Data/Images/{id}.jpg`; the
// Zenodo archive's own CSV layout could not be checked here, so this loader reads that key-file layout and
// accepts the images in `Data/Images/`, `Images/`, `images/` or beside the CSV (.jpg or .png). Labels are kept
// as written in the file. Without a split column a seeded stratified split is made.
import { requireDir } from '../paths.js';
import type { LoadOptions, LoadResult } from '../rows.js';
import { findKeyFile } from './keyfile.js';
import { loadKeyPosts } from './key-posts.js';

export function loadMhp(dir: string, opts: LoadOptions = {}): LoadResult {
  requireDir(dir, 'the MHP folder with data_key_mhp.csv and Data/Images/');
  const file = findKeyFile(
    dir,
    ['data_key_mhp.csv'],
    /^data_key_mhp.*\.csv$/i,
    'the MHP key CSV (tweet_id,text,label,split)',
  );
  return loadKeyPosts(
    {
      format: 'mhp',
      root: dir,
      file,
      idColumns: ['tweet_id', 'id'],
      textHint: '',
      imageDirs: ['Data/Images', 'MHP/Data/Images', 'Images', 'images', ''],
      imageTemplates: ['{id}.jpg', '{id}.png', '{id}.jpeg'],
      label: (raw) => raw,
    },
    opts,
  );
}
