/** A progress line on stderr: a bar by bytes read, rows, rate and ETA; redrawn in place on a terminal. */
export class ProgressBar {
  private readonly startedAt = Date.now();
  private lastDraw = 0;
  private bytes = 0;

  constructor(
    private readonly totalBytes: number,
    private readonly startBytes: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  addBytes(n: number): void {
    this.bytes += n;
  }

  /** Redraws at most 5 times a second on a terminal, every 5 s otherwise (logs). */
  update(rows: number, rejected: number, force = false): void {
    const now = Date.now();
    const interval = this.out.isTTY ? 200 : 5_000;
    if (!force && now - this.lastDraw < interval) return;
    this.lastDraw = now;
    const seconds = Math.max(0.001, (now - this.startedAt) / 1000);
    const rate = rows / seconds;
    const done = Math.min(1, this.totalBytes ? this.bytes / this.totalBytes : 1);
    const byteRate = (this.bytes - this.startBytes) / seconds;
    const eta = byteRate > 0 ? (this.totalBytes - this.bytes) / byteRate : 0;
    const width = 30;
    const filled = Math.round(done * width);
    const line =
      `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(done * 100).toFixed(1)}%  ` +
      `${rows.toLocaleString('en')} rows  ${Math.round(rate).toLocaleString('en')} rows/s  ETA ${formatSeconds(eta)}  rejected ${rejected.toLocaleString('en')}`;
    this.out.write(this.out.isTTY ? `\r${line}\x1b[K` : `${line}\n`);
  }

  finish(rows: number, rejected: number): void {
    this.update(rows, rejected, true);
    if (this.out.isTTY) this.out.write('\n');
  }
}

export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`;
}
