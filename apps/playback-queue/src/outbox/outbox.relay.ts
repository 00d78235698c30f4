import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { PLAYBACK_CONFIG, type PlaybackConfig } from '../playback.config.js';
import { OutboxRepository, type OutboxLease } from './outbox.repository.js';
import { PlayEventSink } from './play-event-sink.js';

export const MAX_BACKOFF_MS = 5_000;

/**
 * Delay before the next attempt after `failures` failed ones in a row: doubling from `baseMs` up to
 * MAX_BACKOFF_MS, with the upper half jittered.
 */
export function relayBackoffMs(failures: number, baseMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

type RelaySettings = Pick<PlaybackConfig, 'OUTBOX_POLL_INTERVAL_MS' | 'OUTBOX_BATCH_SIZE'>;

/**
 * Delivers the outbox's play events to recommendation, at least once and in seq order (which is
 * commit order for any one user, since a user's changes are serialised by their queue lock). Only
 * the replica holding the relay's advisory lock delivers; the others keep polling for it. Runs
 * every OUTBOX_POLL_INTERVAL_MS, at once after a commit that wrote events (`wake`), back to back
 * while full batches keep coming, and with capped backoff while delivery fails. Events leave the
 * outbox's pending set only after recommendation accepted them: none is ever dropped.
 */
@Injectable()
export class OutboxRelay implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxRelay.name);
  private lease: OutboxLease | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private wokenWhileRunning = false;
  private stopped = true;
  private failures = 0;

  constructor(
    @Inject(OutboxRepository) private readonly outbox: Pick<OutboxRepository, 'tryLead'>,
    @Inject(PlayEventSink) private readonly sink: PlayEventSink,
    @Inject(PLAYBACK_CONFIG) private readonly settings: RelaySettings,
  ) {}

  onApplicationBootstrap(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Asks for a delivery run now rather than at the next poll, e.g. after a commit that wrote events. */
  wake(): void {
    // While backing off from a failing recommendation, new events wait for the next attempt.
    if (this.stopped || this.failures > 0) return;
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
    this.timer = setTimeout(() => this.run(), delayMs);
    // The gRPC server keeps the process alive; a pending poll alone should not.
    this.timer.unref();
  }

  private run(): void {
    if (this.stopped) return;
    this.wokenWhileRunning = false;
    this.running = this.attempt().then((nextDelayMs) => {
      this.running = undefined;
      if (this.stopped) return;
      this.schedule(this.wokenWhileRunning && this.failures === 0 ? 0 : nextDelayMs);
    });
  }

  /** One delivery attempt; resolves to the delay before the next, and never rejects. */
  private async attempt(): Promise<number> {
    try {
      const more = await this.deliverBatch();
      if (this.failures > 0) this.logger.log(`delivering play events again after ${this.failures} failed attempts`);
      this.failures = 0;
      return more ? 0 : this.settings.OUTBOX_POLL_INTERVAL_MS;
    } catch (error) {
      this.failures++;
      // One warning per outage; the attempts in between would only repeat it.
      if (this.failures === 1) this.logger.warn(`play event delivery failed, will retry: ${describe(error)}`);
      return relayBackoffMs(this.failures, this.settings.OUTBOX_POLL_INTERVAL_MS);
    }
  }

  /** Delivers the oldest pending batch; true when a full batch went out, so more may be waiting. */
  private async deliverBatch(): Promise<boolean> {
    this.lease ??= await this.outbox.tryLead();
    const lease = this.lease;
    if (!lease) return false; // another replica is relaying
    const entries = await this.onLease(() => lease.pending(this.settings.OUTBOX_BATCH_SIZE));
    if (entries.length === 0) return false;
    // A delivery failure keeps the lease: the database is fine, recommendation is not.
    await this.sink.deliver(entries.map((entry) => entry.payload));
    await this.onLease(() => lease.markDelivered(entries.map((entry) => entry.seq)));
    return entries.length === this.settings.OUTBOX_BATCH_SIZE;
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
