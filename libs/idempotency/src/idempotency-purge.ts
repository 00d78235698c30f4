import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { IDEMPOTENCY_CONFIG, type IdempotencyConfig } from './idempotency.config.js';
import { IdempotencyRepository } from './idempotency.repository.js';

const BATCH_ROWS = 1_000;
// A run deletes at most this many batches; a bigger backlog goes in later runs.
const MAX_BATCHES_PER_RUN = 50;

/**
 * Every IDEMPOTENCY_PURGE_INTERVAL_SECONDS, deletes the keys older than IDEMPOTENCY_RETENTION_HOURS
 * in bounded batches. Each replica runs it; a key deleted twice is deleted once.
 */
@Injectable()
export class IdempotencyPurge implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(IdempotencyPurge.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(IdempotencyRepository) private readonly keys: IdempotencyRepository,
    @Inject(IDEMPOTENCY_CONFIG) private readonly config: IdempotencyConfig,
  ) {}

  onModuleInit(): void {
    const seconds = this.config.IDEMPOTENCY_PURGE_INTERVAL_SECONDS;
    // onModuleInit may run twice (NestJS microservices): one timer only.
    if (seconds === 0 || this.timer) return;
    this.timer = setInterval(() => {
      this.run().catch((error: unknown) =>
        this.logger.warn({ msg: 'idempotency key purge failed; the next run retries', error: String(error) }),
      );
    }, seconds * 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One purge run (joined if one is in progress); returns the keys deleted. */
  run(): Promise<number> {
    this.running ??= this.purge().finally(() => (this.running = undefined));
    return this.running;
  }

  private async purge(): Promise<number> {
    const retentionMs = this.config.IDEMPOTENCY_RETENTION_HOURS * 3_600_000;
    let total = 0;
    for (let i = 0; i < MAX_BATCHES_PER_RUN; i++) {
      const deleted = await this.keys.purge(this.db, retentionMs, BATCH_ROWS);
      total += deleted;
      if (deleted < BATCH_ROWS) break;
    }
    if (total > 0) this.logger.log({ msg: 'purged expired idempotency keys', keys: total });
    return total;
  }
}
