import { counter } from '@overture/metrics';

export interface RetryBudgetOptions {
  /** The dependency's name, the metrics label (e.g. `metadata`). */
  readonly dependency: string;
  /** Retries allowed per first attempt, on top of `minPerSecond` (0.2: at most 20 % more calls). */
  readonly ratio: number;
  /** Retries always allowed per second, so that a quiet client can still retry. */
  readonly minPerSecond: number;
  /** The most retries saved up for a burst. */
  readonly maxBalance: number;
}

export type RetryCause = 'unavailable' | 'deadline';

const retryMetrics = {
  retries: counter({
    name: 'overture_retries_total',
    help: 'Idempotent calls retried on another replica, by dependency and what failed the first attempt (unavailable, deadline).',
    labelNames: ['dependency', 'cause'],
  }),
  refused: counter({
    name: 'overture_retries_refused_total',
    help: 'Retries not made because the dependency retry budget was spent.',
    labelNames: ['dependency'],
  }),
};

/**
 * Caps retries to a share of the calls made (Finagle's RetryBudget): each first attempt deposits
 * `ratio` of a retry, time adds `minPerSecond`, each retry spends one. When a whole service fails,
 * retries then add at most that share of load instead of doubling it.
 */
export class RetryBudget {
  private balance: number;
  private refilledAt: number;

  constructor(
    private readonly options: RetryBudgetOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.balance = options.maxBalance;
    this.refilledAt = now();
  }

  /** Records a first attempt. */
  deposit(): void {
    this.balance = Math.min(this.options.maxBalance, this.balance + this.options.ratio);
  }

  /** Spends one retry if the budget has one, counting it under `cause`; false when it is spent. */
  tryRetry(cause: RetryCause): boolean {
    const now = this.now();
    this.balance = Math.min(this.options.maxBalance, this.balance + ((now - this.refilledAt) / 1_000) * this.options.minPerSecond);
    this.refilledAt = now;
    if (this.balance < 1) {
      retryMetrics.refused.inc({ dependency: this.options.dependency });
      return false;
    }
    this.balance -= 1;
    retryMetrics.retries.inc({ dependency: this.options.dependency, cause });
    return true;
  }
}
