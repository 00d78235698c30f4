import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { gauge } from '@overture/metrics';
import { OutboxRepository } from './outbox.repository.js';

// The app's outbox, once its module is up; the gauges below read it at scrape time.
let readBacklog: (() => Promise<void>) | undefined;

const pending = gauge({
  name: 'overture_outbox_pending_events',
  help: 'Play events in the outbox not delivered to recommendation yet.',
  collect: () => readBacklog?.(),
});
const oldest = gauge({
  name: 'overture_outbox_oldest_pending_age_seconds',
  help: 'Age of the oldest play event not delivered yet (0 when none is pending).',
  collect: () => readBacklog?.(),
});

/**
 * The outbox backlog as gauges read at scrape time: one query on the partial index of undelivered
 * events per scrape, nothing per event. The outbox is one table shared by every replica, so every
 * replica reports the same values (aggregate with max, not sum).
 */
@Injectable()
export class OutboxMetrics implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(OutboxMetrics.name);

  constructor(@Inject(OutboxRepository) private readonly outbox: Pick<OutboxRepository, 'backlog'>) {}

  onModuleInit(): void {
    // One query serves both gauges of a scrape: the second collect reuses the first's answer.
    let reading: Promise<void> | undefined;
    readBacklog = () => {
      reading ??= this.outbox
        .backlog()
        .then(
          (backlog) => {
            pending.set(backlog.pending);
            oldest.set(backlog.oldestAgeSeconds);
          },
          // A scrape must not fail for it: the gauges keep their last values.
          (error: unknown) => this.logger.warn(`outbox backlog not read: ${error instanceof Error ? error.message : String(error)}`),
        )
        .finally(() => setImmediate(() => (reading = undefined)));
      return reading;
    };
  }

  onModuleDestroy(): void {
    readBacklog = undefined;
  }
}
