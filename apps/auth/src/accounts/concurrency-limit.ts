/** Thrown by ConcurrencyLimit.run when every slot is busy and the queue is full. */
export class QueueFullError extends Error {
  constructor() {
    super('concurrency limit: queue full');
  }
}

/**
 * Runs at most `maxRunning` tasks at once; up to `maxQueued` more wait in arrival order, and any
 * beyond that are refused at once (QueueFullError) instead of piling up.
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly maxRunning: number,
    private readonly maxQueued: number,
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.maxRunning) {
      this.running++;
    } else {
      if (this.waiting.length >= this.maxQueued) throw new QueueFullError();
      // The finishing task hands its slot over directly, so `running` stays as it is.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
