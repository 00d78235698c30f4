/**
 * A token bucket: holds up to `capacity` tokens, refilled continuously at `perSecond`; an action
 * costing n tokens may go ahead only if n are there. Allows bursts of `capacity`, then `perSecond`.
 * Times are monotonic milliseconds (performance.now()), so a wall-clock step cannot refill it.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    now = performance.now(),
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
  }

  /** Takes `cost` tokens if there are that many; false (and nothing taken) otherwise. */
  take(cost = 1, now = performance.now()): boolean {
    this.refill(now);
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  /** Milliseconds until `cost` tokens will be there (0 if they are). */
  waitMs(cost = 1, now = performance.now()): number {
    this.refill(now);
    return this.tokens >= cost ? 0 : Math.ceil(((cost - this.tokens) / this.perSecond) * 1000);
  }

  private refill(now: number): void {
    const elapsed = now - this.updatedAt;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.perSecond) / 1000);
    this.updatedAt = now;
  }
}
