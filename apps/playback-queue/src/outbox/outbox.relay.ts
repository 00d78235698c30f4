import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { counter } from '@overture/metrics';
import { Backoff } from '@overture/resilience';
import { inLinkedSpan, outsideRequest } from '@overture/tracing';
import { PLAYBACK_CONFIG, type PlaybackConfig } from '../playback.config.js';
import { OutboxRepository, type OutboxEntry, type OutboxLease } from './outbox.repository.js';
import { PlayEventSink, PlayEventsRefused } from './play-event-sink.js';

export const MAX_BACKOFF_MS = 5_000;
/** How long delivered events stay in the outbox (to look into a delivery) before the relay purges them. */
export const DELIVERED_RETENTION_MS = 24 * 60 * 60 * 1000;
/** How often the relay purges, and the most events one purge deletes (a bounded statement). */
export const PURGE_INTERVAL_MS = 60_000;
export const PURGE_LIMIT = 10_000;

const deliveries = counter({
  name: 'overture_outbox_deliveries_total',
  help: 'Play events the outbox relay sent to recommendation, by outcome (delivered, refused as invalid, failed: to be retried).',
  labelNames: ['outcome'],
});
const delivered = deliveries.labels('delivered');
const refused = deliveries.labels('refused');
const failed = deliveries.labels('failed');

type RelaySettings = Pick<PlaybackConfig, 'OUTBOX_POLL_INTERVAL_MS' | 'OUTBOX_BATCH_SIZE'>;

/**
 * Delivers the outbox's play events to recommendation, at least once and in seq order (which is
 * commit order for any one user, since a user's changes are serialised by their queue lock). Only
 * the replica holding the relay's advisory lock delivers; the others keep polling for it. Runs
 * every OUTBOX_POLL_INTERVAL_MS, at once after a commit that wrote events (`wake`), back to back
 * while full batches keep coming, and with capped backoff while delivery fails. Events leave the
 * outbox's pending set only after recommendation accepted them, or refused them as invalid: a batch
 * it refuses is sent again one event at a time, and each refused event is set aside with the reason
 * (logged as an error) so that it cannot hold up the events after it. Once a minute the relay
 * deletes events delivered more than DELIVERED_RETENTION_MS ago.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private lease: OutboxLease | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private wokenWhileRunning = false;
  private stopped = true;
  // While delivery fails: doubling from the poll interval up to MAX_BACKOFF_MS, jittered.
  private readonly retry: Backoff;
  private nextPurgeAt = 0;

  constructor(
    @Inject(OutboxRepository) private readonly outbox: Pick<OutboxRepository, 'tryLead'>,
    @Inject(PlayEventSink) private readonly sink: PlayEventSink,
    @Inject(PLAYBACK_CONFIG) private readonly settings: RelaySettings,
  ) {
    this.retry = new Backoff({ initialMs: settings.OUTBOX_POLL_INTERVAL_MS, maxMs: MAX_BACKOFF_MS, jitter: true });
  }

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Asks for a delivery run now rather than at the next poll, e.g. after a commit that wrote events. */
  wake(): void {
    // While backing off from a failing recommendation, new events wait for the next attempt.
    if (this.stopped || this.retry.failures > 0) return;
    if (this.running) this.wokenWhileRunning = true;
    else this.schedule(0);
  }

  // Before, not on, application shutdown: the DataSource closes in onApplicationShutdown.
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.dropLease();
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    // `wake` is called while serving a call: the delivery must not run in that call's context,
    // with its deadline and inside its trace.
    this.timer = outsideRequest(() => setTimeout(() => this.run(), delayMs));
    // The gRPC server keeps the process alive; a pending poll alone should not.
    this.timer.unref();
  }

  private run(): void {
    if (this.stopped) return;
    this.wokenWhileRunning = false;
    this.running = this.attempt().then((nextDelayMs) => {
      this.running = undefined;
      if (this.stopped) return;
      this.schedule(this.wokenWhileRunning && this.retry.failures === 0 ? 0 : nextDelayMs);
    });
  }

  /** One delivery attempt; resolves to the delay before the next, and never rejects. */
  private async attempt(): Promise<number> {
    try {
      const more = await this.deliverBatch();
      if (this.retry.failures > 0) this.logger.log(`delivering play events again after ${this.retry.failures} failed attempts`);
      this.retry.reset();
      return more ? 0 : this.settings.OUTBOX_POLL_INTERVAL_MS;
    } catch (error) {
      const delay = this.retry.next();
      // One warning per outage; the attempts in between would only repeat it.
      if (this.retry.failures === 1) this.logger.warn(`play event delivery failed, will retry: ${describe(error)}`);
      return delay;
    }
  }

  /** Delivers the oldest pending batch; true when a full batch went out, so more may be waiting. */
  private async deliverBatch(): Promise<boolean> {
    this.lease ??= await this.outbox.tryLead();
    const lease = this.lease;
    if (!lease) return false; // another replica is relaying
    if (Date.now() >= this.nextPurgeAt) {
      this.nextPurgeAt = Date.now() + PURGE_INTERVAL_MS;
      await this.onLease(() => lease.purgeDelivered(DELIVERED_RETENTION_MS, PURGE_LIMIT));
    }
    const entries = await this.onLease(() => lease.pending(this.settings.OUTBOX_BATCH_SIZE));
    if (entries.length === 0) return false;
    // A delivery failure keeps the lease: the database is fine, recommendation is not.
    try {
      await this.deliver(entries);
    } catch (error) {
      if (!(error instanceof PlayEventsRefused)) {
        failed.inc(entries.length);
        throw error;
      }
      await this.deliverOneByOne(lease, entries);
      return true;
    }
    await this.onLease(() => lease.markDelivered(entries.map((entry) => entry.seq)));
    delivered.inc(entries.length);
    return entries.length === this.settings.OUTBOX_BATCH_SIZE;
  }

  /** A refused batch, event by event and in order: delivered ones are marked, refused ones set aside. */
  private async deliverOneByOne(lease: OutboxLease, entries: readonly OutboxEntry[]): Promise<void> {
    for (const entry of entries) {
      try {
        await this.deliver([entry]);
      } catch (error) {
        if (!(error instanceof PlayEventsRefused)) {
          failed.inc();
          throw error;
        }
        this.logger.error(
          `recommendation refused play event ${entry.payload.event_id} (outbox seq ${entry.seq}); set aside: ${error.message}`,
        );
        await this.onLease(() => lease.markRefused(entry.seq, error.message));
        refused.inc();
        continue;
      }
      await this.onLease(() => lease.markDelivered([entry.seq]));
      delivered.inc();
    }
  }

  // The delivery is a span of its own, linked to the trace of each play it carries (and sampled
  // when one of those was), and the gRPC call under it takes the trace on to recommendation.
  private deliver(entries: readonly OutboxEntry[]): Promise<void> {
    return inLinkedSpan(
      'outbox deliver play events',
      'producer',
      entries.map((entry) => entry.traceparent),
      () => this.sink.deliver(entries),
    );
  }

  // A failed query leaves the lease's connection (and so the lock) in doubt: give it up and take
  // the lock again, on a fresh connection, next time.
  private async onLease<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      await this.dropLease();
      throw error;
    }
  }

  private async dropLease(): Promise<void> {
    const lease = this.lease;
    this.lease = undefined;
    await lease?.release();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
