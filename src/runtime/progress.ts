// tandem's one progress display (training steps, Hub downloads): on a terminal a line redrawn in place, at most
// every 100 ms so that drawing never costs more than the work it shows; in a log (not a TTY) whole lines, at
// most one per `logEveryMs`, so logs stay readable. What the line says is the caller's.

export interface ProgressOptions {
  /** Default process.stderr. */
  stream?: NodeJS.WriteStream;
  /** false: draws nothing at all. */
  enabled?: boolean;
  /** In a log, the least time between two lines (default 30 s; Infinity: only the final line). */
  logEveryMs?: number;
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
    this.enabled = opts.enabled ?? true;
    this.logEveryMs = opts.logEveryMs ?? 30_000;
    this.tty = Boolean(this.stream.isTTY);
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
