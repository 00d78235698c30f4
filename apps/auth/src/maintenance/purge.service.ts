import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config.js';
import { PurgeRepository } from './purge.repository.js';

const BATCH_ROWS = 1_000;
// A run deletes at most this many batches per kind; a backlog bigger than that goes in later runs.
const MAX_BATCHES_PER_RUN = 50;

export type PurgeCounts = Record<'endedSessions' | 'refreshTokens' | 'throttleKeys' | 'securityEvents', number>;

/**
 * Every AUTH_PURGE_INTERVAL_SECONDS, each replica deletes in bounded batches what nothing needs any
 * more: sessions ended longer ago than AUTH_SESSION_HISTORY_RETENTION_SECONDS (their tokens go with
 * them), expired refresh tokens and tokens used longer ago than that (a replay of one is then an
 * invalid token, no longer a detected reuse), idle throttle keys, and security events older than
 * AUTH_SECURITY_EVENT_RETENTION_DAYS. Replicas running at once share the work (SKIP LOCKED).
 */
@Injectable()
export class PurgeService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PurgeService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PurgeCounts> | undefined;

  constructor(
    @Inject(PurgeRepository) private readonly purge: PurgeRepository,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  onModuleInit(): void {
    const seconds = this.config.AUTH_PURGE_INTERVAL_SECONDS;
    if (seconds === 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.run().catch((error: unknown) => this.logger.warn({ msg: 'purge failed; the next run retries', error: String(error) }));
    }, seconds * 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One purge run (a run already in progress is joined, not repeated); returns the rows deleted per kind. */
  run(): Promise<PurgeCounts> {
    this.running ??= this.purgeAll().finally(() => (this.running = undefined));
    return this.running;
  }

  private async purgeAll(): Promise<PurgeCounts> {
    const history = this.config.AUTH_SESSION_HISTORY_RETENTION_SECONDS;
    const throttleWindow = Math.max(this.config.AUTH_SIGNIN_WINDOW_SECONDS, this.config.AUTH_REGISTER_WINDOW_SECONDS);
    const counts: PurgeCounts = {
      endedSessions: await drain((limit) => this.purge.endedSessions(history, limit)),
      refreshTokens: await drain((limit) => this.purge.refreshTokens(history, limit)),
      throttleKeys: await drain((limit) => this.purge.idleThrottleKeys(throttleWindow, limit)),
      securityEvents: await drain((limit) => this.purge.securityEventsBefore(this.config.AUTH_SECURITY_EVENT_RETENTION_DAYS, limit)),
    };
    if (Object.values(counts).some((n) => n > 0)) this.logger.log({ msg: 'purged', ...counts });
    return counts;
  }
}

/** Deletes batch after batch until one comes back short, at most MAX_BATCHES_PER_RUN of them. */
async function drain(batch: (limit: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (let i = 0; i < MAX_BATCHES_PER_RUN; i++) {
    const deleted = await batch(BATCH_ROWS);
    total += deleted;
    if (deleted < BATCH_ROWS) break;
  }
  return total;
}
