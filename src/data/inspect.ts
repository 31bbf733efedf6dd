// `data inspect`: what a loaded dataset holds and what is wrong with it: posts per split and label, images
// missing or unreadable, duplicate texts and images (and whether they cross splits: leakage), text lengths,
// and the posts the loader dropped, by reason.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { probeImage } from './images-check.js';
import type { LoadResult, Row } from './rows.js';
import { count } from './rows.js';

export interface LengthStats {
  min: number;
  max: number;
  mean: number;
  median: number;
  p95: number;
}

export interface DuplicateStats {
  /** Distinct texts/images shared by more than one post. */
  groups: number;
  /** Posts in those groups. */
  posts: number;
  /** Groups whose posts fall in more than one split (leakage between train and evaluation). */
  across_splits: number;
  /** A few of the cross-split groups: the ids and their splits. */
  examples: { ids: string[]; splits: string[] }[];
}

export interface InspectReport {
  format: string;
  source: string;
  /** Posts kept. */
  total: number;
  splits: Record<string, number>;
  labels: Record<string, number>;
  labels_by_split: Record<string, Record<string, number>>;
  /** Posts whose image file is missing (skipped as bad rows or kept text-only, by the policy). */
  missing_images: number;
  /** Kept posts whose image exists but has no readable image header. */
  unreadable_images: number;
  image_formats: Record<string, number>;
  image_problems: { id: string; image: string; reason: string; detail: string }[];
  duplicates: { texts: DuplicateStats; images: DuplicateStats };
  text_length: { chars: LengthStats; words: LengthStats; empty: number };
  /** Posts left out because they cannot be used (--on-bad-row skip), by reason. */
  bad_rows: Record<string, number>;
  /** Posts the format's own rules left out, by reason. */
  dropped: Record<string, number>;
  kept_without_image: number;
  encodings?: Record<string, number>;
  split: LoadResult['split'];
  class_names?: string[];
  notes: string[];
}

function stats(values: number[]): LengthStats {
  if (values.length === 0) return { min: 0, max: 0, mean: 0, median: 0, p95: 0 };
  const s = [...values].sort((a, b) => a - b);
  // nearest-rank percentile
  const pct = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { min: s[0]!, max: s[s.length - 1]!, mean: Math.round(mean * 100) / 100, median: pct(50), p95: pct(95) };
}

/** Text as compared for duplicates: case, URLs (t.co links differ per post) and spacing ignored. */
export function normaliseForDuplicates(text: string): string {
  return text
    .toLowerCase()
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * A fingerprint of an image file: its size and a hash of its first 64 KiB and last 4 KiB. Two different
 * photos of the same size agreeing there is practically impossible; reading whole files of a large set is slow.
 */
export function imageFingerprint(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    const h = createHash('sha1');
    h.update(String(size));
    const head = Buffer.alloc(Math.min(size, 65536));
    readSync(fd, head, 0, head.length, 0);
    h.update(head);
    if (size > 65536) {
      const tail = Buffer.alloc(Math.min(4096, size - 65536));
      readSync(fd, tail, 0, tail.length, size - tail.length);
      h.update(tail);
    }
    return h.digest('hex');
  } finally {
    closeSync(fd);
  }
}

function duplicates(rows: readonly Row[], key: (r: Row) => string | null): DuplicateStats {
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const k = key(r);
    if (k === null || k === '') continue;
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  const out: DuplicateStats = { groups: 0, posts: 0, across_splits: 0, examples: [] };
  for (const g of groups.values()) {
    if (g.length < 2) continue;
    out.groups++;
    out.posts += g.length;
    const splits = [...new Set(g.map((r) => r.split ?? ''))].sort();
    if (splits.length > 1) {
      out.across_splits++;
      if (out.examples.length < 5) out.examples.push({ ids: g.map((r) => r.id), splits });
    }
  }
  return out;
}

/** Builds the report; probes every image header (calls `onProgress(done, total)` as it goes). */
export function inspectDataset(result: LoadResult, onProgress?: (done: number, total: number) => void): InspectReport {
  const rows = result.rows;
  const splits: Record<string, number> = {};
  const labels: Record<string, number> = {};
  const bySplit: Record<string, Record<string, number>> = {};
  for (const r of rows) {
    const s = r.split ?? '';
    count(splits, s);
    const ls = r.label !== undefined ? [r.label] : (r.labels ?? []);
    for (const l of ls) {
      count(labels, l);
      bySplit[s] ??= {};
      count(bySplit[s]!, l);
    }
  }
  const formats: Record<string, number> = {};
  const problems: InspectReport['image_problems'] = [];
  let unreadable = 0;
  let vanished = 0;
  const fingerprints = new Map<Row, string | null>();
  const withImage = rows.filter((r) => r.image !== null);
  withImage.forEach((r, i) => {
    const p = probeImage(r.image!);
    if (p.ok) count(formats, p.format);
    else {
      if (p.reason === 'missing') vanished++;
      else unreadable++;
      if (problems.length < 20) problems.push({ id: r.id, image: r.image!, reason: p.reason, detail: p.detail });
    }
    fingerprints.set(r, p.ok ? imageFingerprint(r.image!) : null);
    onProgress?.(i + 1, withImage.length); // (a progress display throttles itself)
  });
  const chars = rows.map((r) => [...r.text].length);
  const words = rows.map((r) => (r.text.trim() === '' ? 0 : r.text.trim().split(/\s+/).length));
  const report: InspectReport = {
    format: result.format,
    source: result.source,
    total: rows.length,
    splits,
    labels,
    labels_by_split: bySplit,
    missing_images: (result.badRows['missing-image'] ?? 0) + result.keptWithoutImage + vanished,
    unreadable_images: unreadable,
    image_formats: formats,
    image_problems: problems,
    duplicates: {
      texts: duplicates(rows, (r) => normaliseForDuplicates(r.text)),
      images: duplicates(rows, (r) => fingerprints.get(r) ?? null),
    },
    text_length: { chars: stats(chars), words: stats(words), empty: rows.filter((r) => r.text.trim() === '').length },
    bad_rows: result.badRows,
    dropped: result.dropped,
    kept_without_image: result.keptWithoutImage,
    split: result.split,
    notes: result.notes,
  };
  if (result.encodings) report.encodings = result.encodings;
  if (result.classNames) report.class_names = result.classNames;
  return report;
}

function table(obj: Record<string, number>): string {
  const keys = Object.keys(obj).sort();
  if (keys.length === 0) return '  (none)';
  const w = Math.max(...keys.map((k) => k.length));
  return keys.map((k) => `  ${(k || '(none)').padEnd(w)}  ${obj[k]}`).join('\n');
}

/** The report as text for a terminal. */
export function formatReport(r: InspectReport): string {
  const d = r.duplicates;
  const lines = [
    `${r.format}: ${r.source}`,
    `posts kept: ${r.total}${r.kept_without_image ? ` (${r.kept_without_image} without image)` : ''}`,
    `split: ${r.split.kind}${r.split.file ? ` (${r.split.file})` : ''}`,
    'posts per split:',
    table(r.splits),
    'posts per label:',
    table(r.labels),
    ...Object.keys(r.labels_by_split)
      .sort()
      .flatMap((s) => [`labels in ${s || '(none)'}:`, table(r.labels_by_split[s]!)]),
    `images missing: ${r.missing_images}, unreadable: ${r.unreadable_images}`,
    'image formats:',
    table(r.image_formats),
    ...r.image_problems.slice(0, 10).map((p) => `  ${p.id}: ${p.reason} (${p.detail}) ${p.image}`),
    `duplicate texts: ${d.texts.groups} groups, ${d.texts.posts} posts, ${d.texts.across_splits} across splits`,
    `duplicate images: ${d.images.groups} groups, ${d.images.posts} posts, ${d.images.across_splits} across splits`,
    `text length (chars): min ${r.text_length.chars.min}, median ${r.text_length.chars.median}, mean ${r.text_length.chars.mean}, p95 ${r.text_length.chars.p95}, max ${r.text_length.chars.max}; empty: ${r.text_length.empty}`,
    `text length (words): median ${r.text_length.words.median}, p95 ${r.text_length.words.p95}, max ${r.text_length.words.max}`,
    'skipped (bad rows):',
    table(r.bad_rows),
    'dropped:',
    table(r.dropped),
    ...(r.encodings ? ['text encodings:', table(r.encodings)] : []),
    ...r.notes.map((n) => `note: ${n}`),
  ];
  return lines.join('\n');
}
