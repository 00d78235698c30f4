export type ReadinessCheck = () => Promise<void>;

/**
 * Runs a readiness check (e.g. `SELECT 1` on the service's database) on an interval and remembers
 * the outcome, so health endpoints answer from memory instead of opening a connection per probe.
 * Listeners hear every change of state. `markDraining()` makes it report not-ready for good, which is
 * the first step of a graceful shutdown.
 */
export class ReadinessMonitor {
  private ready = false;
  private draining = false;
  private timer: NodeJS.Timeout | undefined;
  private lastError: string | undefined;
  private readonly listeners = new Set<(ready: boolean) => void>();

  constructor(
    private readonly check: ReadinessCheck,
    private readonly intervalMs = 2_000,
    private readonly timeoutMs = 1_500,
  ) {}

  get isReady(): boolean {
    return this.ready && !this.draining;
  }

  get reason(): string | undefined {
    return this.draining ? 'shutting down' : this.lastError;
  }

  onChange(listener: (ready: boolean) => void): void {
    this.listeners.add(listener);
  }

  /** Runs the first check now, then keeps checking until stopped. */
  async start(): Promise<void> {
    await this.runCheck();
    this.timer = setInterval(() => void this.runCheck(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  markDraining(): void {
    const before = this.isReady;
    this.draining = true;
    this.stop();
    if (before) this.emit();
  }

  async runCheck(): Promise<boolean> {
    const before = this.isReady;
    let timeout: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.check(),
        new Promise<never>((_, reject) => {
          timeout = setTimeout(() => reject(new Error(`readiness check timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
      this.ready = true;
      this.lastError = undefined;
    } catch (error) {
      this.ready = false;
      this.lastError = error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(timeout);
    }
    if (before !== this.isReady) this.emit();
    return this.isReady;
  }

  private emit(): void {
    for (const listener of this.listeners) listener(this.isReady);
  }
}
