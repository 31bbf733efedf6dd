// Rows that cannot become part of a batch, and the policy for them: stop with a message that names the post
// and where it was read from, or leave it out and count it by reason.
import { rowOrigin } from '../generic.js';
import { groupsOf, type LeftOutGroup } from '../left-out.js';
import { count, DataError, LEFT_OUT_EXAMPLES, type LeftOut, type Row } from '../rows.js';

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
        '; fix the data, or pass --on-bad-row skip to leave such posts out' +
        (bad.reason === 'missing-image' ? ' or --missing-image blank to give them one blank image' : ''),
    );
    this.name = 'BadRowError';
  }
}

/**
 * Collects bad rows under a policy: throws on the first under 'error', counts under 'skip'. A post is counted
 * once, however often it is reported (a training loader meets an undecodable image again every epoch).
 */
export class BadRowLog {
  readonly counts: Record<string, number> = {};
  private readonly seen = new Map<string, BadRow>();

  constructor(
    readonly policy: BadRowPolicy,
    private readonly keep = LEFT_OUT_EXAMPLES,
  ) {}

  get total(): number {
    return this.seen.size;
  }

  /** Every bad row counted, in the order they were found. */
  get rows(): BadRow[] {
    return [...this.seen.values()];
  }

  report(b: BadRow): void {
    if (this.policy === 'error') throw new BadRowError(b);
    if (this.seen.has(b.id)) return;
    this.seen.set(b.id, b);
    count(this.counts, b.reason);
  }

  /** Adds another log's rows (e.g. the pre-flight's to the loader's, a batch's to its epoch's). */
  merge(other: BadRowLog): void {
    for (const b of other.seen.values()) {
      if (this.seen.has(b.id)) continue;
      this.seen.set(b.id, b);
      count(this.counts, b.reason);
    }
  }

  /** The bad rows by reason with the first few ids and details, for formatLeftOut. */
  groups(): LeftOutGroup[] {
    const byReason: Record<string, LeftOut[]> = {};
    for (const b of this.seen.values()) {
      const list = (byReason[b.reason] ??= []);
      if (list.length < this.keep)
        list.push({
          id: b.id,
          detail: b.detail,
          ...(b.file !== undefined ? { file: b.file } : {}),
          ...(b.line !== undefined ? { line: b.line } : {}),
        });
    }
    return groupsOf(this.counts, byReason);
  }
}
