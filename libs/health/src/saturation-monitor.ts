import { performance } from 'node:perf_hooks';

/** The counts of a connection pool a readiness decision needs (a pg `Pool` has them). */
export interface PoolSaturation {
  readonly idleCount: number;
  readonly waitingCount: number;
}

export interface SaturationLimits {
  /** An event loop late by more than this, at every sample for `eventLoopWindowMs`, is stalled. */
  readonly eventLoopDelayMs: number;
  readonly eventLoopWindowMs: number;
  /** A pool with requests waiting and no idle connection for this long is exhausted. */
  readonly poolExhaustedMs: number;
}

/** How often the event loop's lateness and the pool are sampled. */
export const SATURATION_SAMPLE_MS = 250;

/**
 * Tells whether the process can do its job right now, beyond "it is up": its event loop has been
 * late by more than a threshold for a sustained window (every sample of it), or its database pool has
 * had requests waiting with no free connection for longer than a threshold. Either makes
 * `check` fail, so readiness turns NOT_SERVING and the load balancer sends the work elsewhere; once
 * the loop is on time again and the pool has a free connection (or no one waits), `check` passes
 * again by itself. Liveness is not tied to it: a saturated process is not a dead one.
 */
export class SaturationMonitor {
  private timer: NodeJS.Timeout | undefined;
  private due = 0;
  /** When the event loop became (and has stayed) late beyond the limit. */
  private lateSince: number | undefined;
  /** When the pool became (and has stayed) exhausted. */
  private exhaustedSince: number | undefined;
  private lastSample = 0;

  constructor(
    private readonly limits: SaturationLimits,
    private readonly pool?: PoolSaturation,
    private readonly sampleMs = SATURATION_SAMPLE_MS,
  ) {}

  /** Samples every `sampleMs` from now on (the timer does not keep the process alive). */
  start(): this {
    if (this.timer) return this;
    this.due = performance.now() + this.sampleMs;
    this.timer = setInterval(() => {
      const now = performance.now();
      this.sample(now, now - this.due);
      this.due = now + this.sampleMs;
    }, this.sampleMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Nest's shutdown hook, for a monitor provided to a Nest app. */
  onApplicationShutdown(): void {
    this.stop();
  }

  /**
   * One sample at `now` (ms, monotonic): `lateMs` is how late the sampling timer fired. A late
   * sample dates the stall from when the timer was due, so one block longer than the window counts.
   */
  sample(now: number, lateMs: number): void {
    this.lastSample = now;
    if (lateMs > this.limits.eventLoopDelayMs) this.lateSince ??= now - lateMs;
    else this.lateSince = undefined;
    if (this.pool && this.pool.waitingCount > 0 && this.pool.idleCount === 0) this.exhaustedSince ??= now;
    else this.exhaustedSince = undefined;
  }

  /** Why the process cannot do its job, as of the last sample; undefined when it can. */
  problem(): string | undefined {
    const now = this.lastSample;
    if (this.lateSince !== undefined && now - this.lateSince >= this.limits.eventLoopWindowMs) {
      return `event loop delayed over ${this.limits.eventLoopDelayMs} ms for ${Math.round(now - this.lateSince)} ms`;
    }
    if (this.exhaustedSince !== undefined && now - this.exhaustedSince >= this.limits.poolExhaustedMs) {
      return `database pool exhausted (requests waiting, no free connection) for ${Math.round(now - this.exhaustedSince)} ms`;
    }
    return undefined;
  }

  /** A readiness check: fails, naming the problem, while the process is saturated. */
  readonly check = async (): Promise<void> => {
    const problem = this.problem();
    if (problem) throw new Error(problem);
  };
}
