// The pre-flight check before training: every row once (text, label, image file and header), so that a
// run stops before its first step, or knows which rows it leaves out, instead of failing mid-epoch.
import type { Row } from '../rows.js';
import { BadRowError, BadRowLog, type BadRow, type BadRowPolicy } from './bad-rows.js';
import { badRow } from './bad-rows.js';
import type { PostEncoder } from './encoder.js';
import { ImagePool } from './image-pool.js';

export interface ValidationResult {
  /** The rows that passed, in their original order. */
  rows: Row[];
  /** Rows left out, by reason (policy 'skip'; empty under 'error', which throws instead). */
  badRows: Record<string, number>;
  /** Every bad row found. */
  bad: BadRow[];
  /** The counts as a log the BatchLoader can continue (pass it as `preflight`). */
  log: BadRowLog;
}

/**
 * Checks all rows with the encoder's rules without decoding images (the header is probed: missing, empty,
 * unknown format, truncated header). Under 'error' throws a BadRowError for the first bad row, naming its
 * id, file and line and how many more there are; under 'skip' returns the good rows and the counts.
 */
export function validateRows(
  rows: readonly Row[],
  encoder: PostEncoder,
  opts: { onBadRow?: BadRowPolicy } = {},
): ValidationResult {
  const policy = opts.onBadRow ?? 'error';
  const good: Row[] = [];
  const bad: BadRow[] = [];
  for (const r of rows) {
    const b = encoder.checkRow(r);
    if (b) bad.push(b);
    else good.push(r);
  }
  if (policy === 'error' && bad.length > 0) throw new BadRowError(bad[0]!, bad.length - 1);
  const log = new BadRowLog('skip');
  for (const b of bad) log.report(b);
  return { rows: good, badRows: { ...log.counts }, bad, log };
}

/**
 * validateRows, then a full decode and preprocessing of every image that passed (in the pool's workers):
 * also catches files whose header is fine but whose data is not (truncated or corrupt), so that under
 * 'error' no image can fail in the middle of an epoch. Costs one pass over the images.
 */
export async function validateRowsDecoding(
  rows: readonly Row[],
  encoder: PostEncoder,
  opts: { onBadRow?: BadRowPolicy; pool?: ImagePool } = {},
): Promise<ValidationResult> {
  const policy = opts.onBadRow ?? 'error';
  const first = validateRows(rows, encoder, { onBadRow: policy });
  if (!encoder.readsImages) return first; // nothing to decode
  const pool = opts.pool ?? new ImagePool();
  try {
    const results = await Promise.all(first.rows.map((r) => pool.run(encoder.job(r.image!, 'process'))));
    const good: Row[] = [];
    const bad: BadRow[] = [...first.bad];
    results.forEach((res, i) => {
      const r = first.rows[i]!;
      if (res.ok) good.push(r);
      else bad.push(badRow(r, res.reason, res.detail));
    });
    const late = bad.slice(first.bad.length);
    if (policy === 'error' && late.length > 0) throw new BadRowError(late[0]!, late.length - 1);
    for (const b of late) first.log.report(b);
    return { rows: good, badRows: { ...first.log.counts }, bad, log: first.log };
  } finally {
    if (!opts.pool) await pool.close();
  }
}
