// MVSA-Single and MVSA-Multiple (Niu, Zhu, Pang and El Saddik, "Sentiment Analysis on Multi-View Social Data",
// MMM 2016; http://mcrlab.net/research/mvsa-sentiment-analysis-on-multi-view-social-data/).
// Published layout: `labelResultAll.txt` (tab-separated; header `ID\ttext,image`; each further cell is one
// annotator's `text_label,image_label`: one cell in MVSA-Single, three in MVSA-Multiple) and `data/<id>.txt` +
// `data/<id>.jpg`. Loaders that follow it: e.g. cfeng-git/Multimodal-Sentiment-Analysis-with-Image-Text-Data
// (data/process_multiview_label.py), danaesavi/SocialMedia-TextImage-Classification-AuxLosses (images at
// MVSA-Single/data/{id}.jpg).
// Label rule (Xu and Mao 2017, "MultiSentiNet"; Xu, Mao and Chen 2018): for MVSA-Multiple each modality takes
// the label a majority of the annotators gave (no majority: dropped, 'no-majority'); then the text and image
// labels agree -> that label; one is neutral -> the other one; positive vs negative -> dropped
// ('text-image-conflict'). The text files are in mixed encodings (UTF-8 and GB18030 in the published release):
// each is decoded as text-decode.ts says, the release's dominant legacy encoding preferred for ambiguous short
// files, and the encoding is recorded per post (`extra.text_encoding`, when not UTF-8) and counted.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LoadBuilder } from '../build.js';
import { findWithExt, firstDir, firstFile, IMAGE_EXTS, isFile, requireDir } from '../paths.js';
import { DataError, type LoadOptions, type LoadResult } from '../rows.js';
import { decodeRelease, resolveEncodingName } from '../text-decode.js';

export const MVSA_CLASSES = ['neutral', 'positive', 'negative'];
const VALID = new Set(MVSA_CLASSES);

/** The label a strict majority of the votes give, or null. */
export function majority(votes: readonly string[]): string | null {
  const counts = new Map<string, number>();
  for (const v of votes) counts.set(v, (counts.get(v) ?? 0) + 1);
  for (const [k, c] of counts) if (c * 2 > votes.length) return k;
  return null;
}

/** Xu et al.'s combination of a text and an image sentiment label; null when they conflict. */
export function combineSentiment(text: string, image: string): string | null {
  if (text === image) return text;
  if (text === 'neutral') return image;
  if (image === 'neutral') return text;
  return null;
}

function loadMvsa(format: 'mvsa-single' | 'mvsa-multiple', dir: string, opts: LoadOptions): LoadResult {
  requireDir(dir, `the ${format} folder with labelResultAll.txt and data/`);
  const root = firstFile(dir, ['labelResultAll.txt'])
    ? dir
    : (firstDir(dir, ['MVSA_Single', 'MVSA-Single', 'MVSA', 'MVSA-Multiple', 'MVSA_Multiple']) ?? dir);
  const labelFile = join(root, 'labelResultAll.txt');
  if (!isFile(labelFile))
    throw new DataError(`${dir}: labelResultAll.txt not found (expected the ${format} label file beside data/)`);
  const dataDir = join(root, 'data');
  requireDir(dataDir, 'data/ with <id>.txt and <id>.jpg');
  const b = new LoadBuilder(format, dir, opts);
  const lines = readFileSync(labelFile, 'utf8').split(/\r?\n/);
  const expected = format === 'mvsa-single' ? 1 : 3;
  const force = opts.textEncoding ? resolveEncodingName(opts.textEncoding) : undefined;
  // Posts wait here until all their files are read (decodeRelease looks at them together); null: no text file,
  // dropped in its turn so the drop counts keep the file's order.
  const pending: ({ id: string; label: string; bytes: Buffer; extra: Record<string, unknown> } | null)[] = [];
  let conflicts = 0;
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.trim();
    if (line === '') return;
    const cells = line.split('\t').map((c) => c.trim());
    if (lineNo === 1 && !/^\d+$/.test(cells[0]!)) return; // header 'ID  text,image ...'
    const at = `${labelFile}:${lineNo}`;
    const id = cells[0]!;
    if (!/^\d+$/.test(id)) throw new DataError(`${at}: expected a numeric post id, found '${id}'`);
    const ann = cells.slice(1).filter((c) => c !== '');
    if (ann.length !== expected) {
      throw new DataError(
        `${at}: expected ${expected} annotation${expected > 1 ? 's' : ''} 'text,image' after the id, found ${ann.length} (truncated line?)`,
      );
    }
    const textVotes: string[] = [];
    const imageVotes: string[] = [];
    for (const cell of ann) {
      const parts = cell.split(',').map((p) => p.trim().toLowerCase());
      if (parts.length !== 2 || !VALID.has(parts[0]!) || !VALID.has(parts[1]!)) {
        const hint = parts.length < 2 ? ' (truncated line?)' : '';
        throw new DataError(
          `${at}: expected 'text_label,image_label' with labels positive/neutral/negative, found '${cell}'${hint}`,
        );
      }
      textVotes.push(parts[0]!);
      imageVotes.push(parts[1]!);
    }
    const t = majority(textVotes);
    const im = majority(imageVotes);
    if (t === null || im === null) {
      b.drop('no-majority', 1, { id });
      return;
    }
    const label = combineSentiment(t, im);
    if (label === null) {
      conflicts++;
      b.drop('text-image-conflict', 1, { id });
      return;
    }
    const txtPath = join(dataDir, `${id}.txt`);
    let bytes: Buffer;
    try {
      bytes = readFileSync(txtPath);
    } catch {
      pending.push(null);
      return;
    }
    const extra: Record<string, unknown> = { text_label: t, image_label: im };
    if (expected > 1) extra.annotations = ann.map((c) => c.toLowerCase());
    pending.push({ id, label, bytes, extra });
  });
  const files = pending.filter((p) => p !== null);
  const decoded = decodeRelease(
    files.map((p) => p.bytes),
    { force },
  );
  let next = 0;
  pending.forEach((p) => {
    if (p === null) {
      b.drop('missing-text');
      return;
    }
    const { id, label, extra } = p;
    const { text, encoding } = decoded[next++]!;
    const image = findWithExt(dataDir, id, IMAGE_EXTS) ?? join(dataDir, `${id}.jpg`);
    if (encoding !== 'utf-8') extra.text_encoding = encoding;
    if (b.add({ id, text: text.trim(), image, label, extra })) b.countEncoding(encoding);
  });
  if (conflicts)
    b.notes.push(`${conflicts} posts dropped whose text and image labels are positive vs negative (Xu et al. 2017)`);
  const legacy = Object.entries(b.encodings ?? {}).filter(([e]) => e !== 'utf-8');
  if (legacy.length > 0) {
    const list = legacy.map(([e, n]) => `${n} as ${e}`).join(', ');
    b.notes.push(
      force ? `text files decoded as ${force} (--text-encoding)` : `text files not in UTF-8 decoded: ${list}`,
    );
  }
  return b.finishSeeded(root, MVSA_CLASSES);
}

export function loadMvsaSingle(dir: string, opts: LoadOptions = {}): LoadResult {
  return loadMvsa('mvsa-single', dir, opts);
}

export function loadMvsaMultiple(dir: string, opts: LoadOptions = {}): LoadResult {
  return loadMvsa('mvsa-multiple', dir, opts);
}
