export interface BackoffOptions {
  /** The delay after the first failure; each later one doubles it. */
  initialMs: number;
  /** The longest delay. */
  maxMs: number;
  /** Draw each delay from the upper half of its step, so that many clients failing at once spread out. */
  jitter?: boolean;
}

/**
 * Capped exponential backoff for a retry loop. Call `next()` after each failure for the delay
 * before the next attempt (initialMs, doubling, up to maxMs; a call may pass a tighter cap of its
 * own), and `reset()` after a success to start over. `failures` counts the failures since then.
 */
export class Backoff {
  private count = 0;

  constructor(
    private readonly options: BackoffOptions,
    private readonly random: () => number = Math.random,
  ) {}

  get failures(): number {
    return this.count;
  }

  next(maxMs = this.options.maxMs): number {
    this.count++;
    const ceiling = Math.min(maxMs, this.options.initialMs * 2 ** (this.count - 1));
    return this.options.jitter ? Math.round(ceiling / 2 + (this.random() * ceiling) / 2) : ceiling;
  }

  reset(): void {
    this.count = 0;
  }
}
