// A one-line progress bar on stderr when it is a terminal (CE / ITC / ITM and samples per second), and
// plain periodic lines otherwise, so logs stay readable.
export class ProgressBar {
  private lastDraw = 0;
  private readonly tty: boolean;
  private readonly start = Date.now();
  constructor(
    readonly total: number,
    readonly label: string,
    readonly stream: NodeJS.WriteStream = process.stderr,
    readonly enabled = true,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  update(done: number, fields: Record<string, number | undefined>, samplesPerSecond: number): void {
    if (!this.enabled) return;
    const now = Date.now();
    const last = done >= this.total;
    if (!last && now - this.lastDraw < (this.tty ? 100 : 30_000)) return;
    this.lastDraw = now;
    const parts = Object.entries(fields)
      .filter(([, v]) => v !== undefined && Number.isFinite(v))
      .map(([k, v]) => `${k} ${v!.toFixed(4)}`);
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const elapsed = (now - this.start) / 1000;
    const eta = frac > 0 ? elapsed / frac - elapsed : 0;
    const width = 24;
    const bar = '█'.repeat(Math.round(frac * width)).padEnd(width, '·');
    const line = `${this.label} ${bar} ${done}/${this.total} ${parts.join(' ')} ${samplesPerSecond.toFixed(1)} samples/s eta ${formatSeconds(eta)}`;
    if (this.tty) this.stream.write(`\r\x1b[2K${line}${last ? '\n' : ''}`);
    else this.stream.write(line + '\n');
  }

  /** Ends the line (for example before printing an evaluation). */
  break(): void {
    if (this.enabled && this.tty) this.stream.write('\n');
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  const sec = Math.round(s % 60);
  return m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}
