// tandem's one progress display (training steps, evaluation, prediction, reading datasets, Hub downloads): on a
// terminal a line redrawn in place, at most every 100 ms so that drawing never costs more than the work it
// shows; in a log (not a TTY) whole lines, at most one per `logEveryMs`, so logs stay readable, or nothing with
// `ttyOnly`. What the line says is the caller's; CountProgress says it for counted work.

export interface ProgressOptions {
  /** Default process.stderr. */
  stream?: NodeJS.WriteStream;
  /** false: draws nothing at all. */
  enabled?: boolean;
  /** In a log, the least time between two lines (default 30 s; Infinity: only the final line). */
  logEveryMs?: number;
  /** Draws only on a terminal: a log gets nothing (work whose end the command reports anyway). */
  ttyOnly?: boolean;
}

const TTY_REDRAW_MS = 100;

export class ProgressBar {
  readonly tty: boolean;
  readonly enabled: boolean;
  private readonly stream: NodeJS.WriteStream;
  private readonly logEveryMs: number;
  private readonly start = Date.now();
  private lastDraw = -Infinity;
  /** A redrawn line is on the terminal and not yet ended with a newline. */
  private open = false;

  constructor(opts: ProgressOptions = {}) {
    this.stream = opts.stream ?? process.stderr;
    this.logEveryMs = opts.logEveryMs ?? 30_000;
    this.tty = Boolean(this.stream.isTTY);
    this.enabled = (opts.enabled ?? true) && (this.tty || !opts.ttyOnly);
  }

  /** `width` cells: '#' for the fraction done, '.' for the rest. */
  static bar(fraction: number, width = 24): string {
    const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
    return '#'.repeat(Math.round(f * width)).padEnd(width, '.');
  }

  /** Seconds since the display was made. */
  elapsedSeconds(): number {
    return (Date.now() - this.start) / 1000;
  }

  /**
   * Shows the line `text()` if it is due (text is only computed then); a `final` update always shows and, on a
   * terminal, ends the line.
   */
  update(text: () => string, final = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!final && now - this.lastDraw < (this.tty ? TTY_REDRAW_MS : this.logEveryMs)) return;
    this.lastDraw = now;
    if (this.tty) {
      this.stream.write(`\r${text()}\x1b[K${final ? '\n' : ''}`);
      this.open = !final;
    } else this.stream.write(text() + '\n');
  }

  /** A line of its own (ends a redrawn line first). */
  log(line: string): void {
    if (!this.enabled) return;
    this.break();
    this.stream.write(line + '\n');
  }

  /** Ends a redrawn line, for example before printing an evaluation. */
  break(): void {
    if (this.open) this.stream.write('\n');
    this.open = false;
  }

  /** Erases a redrawn line, so that what is printed next takes its place. */
  clear(): void {
    if (this.open) this.stream.write('\r\x1b[K');
    this.open = false;
  }
}

/**
 * Progress of counted work (posts evaluated, predicted, read, images checked), on a terminal only:
 * `evaluating dev ######.......... 120/800 posts 35.2/s eta 19s`, or without a known total
 * `reading 12000 posts 3s`. `end()` erases the line: the command's own output follows.
 */
export class CountProgress {
  private readonly bar: ProgressBar;
  private readonly unit: string;
  private done = 0;

  constructor(
    private readonly label: string,
    private readonly total: number | undefined,
    opts: { enabled?: boolean; stream?: NodeJS.WriteStream; unit?: string } = {},
  ) {
    this.bar = new ProgressBar({
      ttyOnly: true,
      ...(opts.enabled !== undefined ? { enabled: opts.enabled } : {}),
      ...(opts.stream ? { stream: opts.stream } : {}),
    });
    this.unit = opts.unit ?? 'posts';
  }

  /** Whether anything is drawn (a terminal, and progress not turned off). */
  get shown(): boolean {
    return this.bar.enabled;
  }

  /** `done` items so far (of `total`, when the caller learns it only now). */
  update(done: number, total = this.total): void {
    this.done = done;
    this.bar.update(() => this.line(total));
  }

  /** Counts `n` more items. */
  add(n = 1): void {
    this.update(this.done + n);
  }

  /** The work ended (or failed): the line goes. */
  end(): void {
    this.bar.clear();
  }

  private line(total: number | undefined): string {
    const t = this.bar.elapsedSeconds();
    if (total === undefined || !(total > 0)) return `${this.label} ${this.done} ${this.unit} ${formatSeconds(t)}`;
    const frac = Math.min(1, this.done / total);
    const rate = t > 0 ? this.done / t : 0;
    const eta = rate > 0 ? (total - this.done) / rate : Infinity;
    return `${this.label} ${ProgressBar.bar(frac)} ${this.done}/${total} ${this.unit} ${rate.toFixed(1)}/s eta ${formatSeconds(eta)}`;
  }
}

/** 75 -> "1m15s", 9.4 -> "9s", not finite -> "?". */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const t = Math.round(s); // rounded first, so that 119.6 s reads 2m00s, not 1m60s
  const m = Math.floor(t / 60);
  const sec = t % 60;
  return m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

/** Bytes in decimal units: "885 B", "5.0 MB", "1.25 GB". */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}
