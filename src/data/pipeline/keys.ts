// Content keys: equal keys mean duplicate content (false negatives for ITC/ITM) or a reusable cache entry.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export function sha1Hex(data: string | Uint8Array): string {
  return createHash('sha1').update(data).digest('hex');
}

/**
 * The text as compared for duplicates: Unicode NFKC, lower case, runs of white space as one space, trimmed.
 * (Applied after the encoder's tweet normalisation, so "@alice hi" and "@bob hi" are duplicates when
 * mentions are normalised to @USER.)
 */
export function canonicalText(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

/** sha1 of canonicalText(text). */
export function textKey(text: string): string {
  return sha1Hex(canonicalText(text));
}

/** sha1 of an image file's bytes. */
export function imageFileKey(path: string): string {
  return sha1Hex(readFileSync(path));
}

/** JSON with object keys sorted, so equal configurations hash equally whatever their field order. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A short hash of any JSON-able configuration (e.g. a resolved ImageProcessorConfig). */
export function configHash(value: unknown): string {
  return sha1Hex(stableJson(value)).slice(0, 16);
}
