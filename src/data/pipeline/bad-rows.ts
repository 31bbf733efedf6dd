// Rows that cannot become part of a batch, and the policy for them: stop with a message that names the post
// and where it was read from, or leave it out and count it by reason.
import { rowOrigin } from '../generic.js';
import { count, DataError, type Row } from '../rows.js';

export type BadRowReason = 'missing-image' | 'unreadable-image' | 'unknown-label' | 'missing-label' | 'empty-text';

/** 'error' stops at the first bad row; 'skip' leaves bad rows out and counts them. */
export type BadRowPolicy = 'error' | 'skip';

export const BAD_ROW_POLICIES: readonly BadRowPolicy[] = ['error', 'skip'];

/** One problem found with one row. */
export interface BadRow {
  id: string;
  reason: BadRowReason;
  /** What is wrong, e.g. "image file not found: /data/img/3.jpg". */
  detail: string;
  file?: string;
  line?: number;
}

/** Builds a BadRow for `row`, with its source file and line when the loader recorded them. */
export function badRow(row: Row, reason: BadRowReason, detail: string): BadRow {
  const o = rowOrigin(row);
  return {
    id: row.id,
    reason,
    detail,
    ...(o?.file !== undefined ? { file: o.file } : {}),
    ...(o ? { line: o.line } : {}),
  };
}

/** "post 17 (data/posts.jsonl:18)", or "post 17" when the origin is unknown. */
export function describeBadRow(b: BadRow): string {
  const where =
    b.file !== undefined && b.line !== undefined ? `${b.file}:${b.line}` : b.line !== undefined ? `line ${b.line}` : '';
  return `post ${b.id}${where ? ` (${where})` : ''}: ${b.reason}: ${b.detail}`;
}

/** A bad row under policy 'error'. A DataError, so the CLI reports it as bad input (exit code 2). */
export class BadRowError extends DataError {
  constructor(
    readonly bad: BadRow,
    /** How many more bad rows the same check found after this one. */
    readonly more = 0,
  ) {
    super(
      describeBadRow(bad) +
        (more > 0 ? ` (and ${more} more bad row${more === 1 ? '' : 's'})` : '') +
        '; fix the data or pass --on-bad-row skip to leave such posts out',
    );
    this.name = 'BadRowError';
  }
}

/** Collects bad rows under a policy: throws on the first under 'error', counts under 'skip'. */
export class BadRowLog {
  readonly counts: Record<string, number> = {};
  /** The first few bad rows in full (for logs), at most `keep`. */
  readonly examples: BadRow[] = [];

  constructor(
    readonly policy: BadRowPolicy,
    private readonly keep = 20,
  ) {}

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  report(b: BadRow): void {
    if (this.policy === 'error') throw new BadRowError(b);
    count(this.counts, b.reason);
    if (this.examples.length < this.keep) this.examples.push(b);
  }

  /** Adds another log's counts (e.g. the pre-flight's to the loader's). */
  merge(other: BadRowLog): void {
    for (const [k, n] of Object.entries(other.counts)) count(this.counts, k, n);
    for (const b of other.examples) if (this.examples.length < this.keep) this.examples.push(b);
  }
}
