import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Backoff } from '@overture/resilience';
import pg from 'pg';
import { Observable, Subject } from 'rxjs';
import { PLAYBACK_CONFIG, type PlaybackConfig } from '../playback.config.js';
import { replicaDraining } from '../playback.errors.js';
import { CHANGES_CHANNEL, decodeChange, type PlaybackChange } from './playback-change.js';

/**
 * This replica's LISTEN on the changes channel, shared by every watcher (WatchEvents stream).
 * Each replica listens, so a watcher on any replica hears every user's changes, wherever they
 * were made. Whenever the listening connection is (re)established, watchers get a resync: changes
 * committed while it was down were not heard. On shutdown it drains: watchers are told to move to
 * another replica and keep their streams while they do, so none of them has to resync.
 */
@Injectable()
export class PlaybackChangeHub implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PlaybackChangeHub.name);
  private readonly changes = new Subject<PlaybackChange>();
  /** The current connection, connecting or listening. */
  private client: pg.Client | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly retry = new Backoff({ initialMs: 200, maxMs: 5_000 });
  private started = false;
  private stopped = false;
  /** Open watcher streams. */
  private watchers = 0;
  private draining: Promise<void> | undefined;
  /** Ends the drain's wait: called when the last watcher goes, or on close. */
  private endDrainWait: (() => void) | undefined;

  constructor(@Inject(PLAYBACK_CONFIG) private readonly config: Pick<PlaybackConfig, 'DATABASE_URL' | 'WATCH_DRAIN_GRACE_MS'>) {}

  onApplicationBootstrap(): void {
    // Nest may run bootstrap hooks twice (init, then listen): one listening connection is enough.
    if (this.started) return;
    this.started = true;
    void this.connect();
  }

  /**
   * Every change from now on, starting with a resync (the watcher knows nothing yet). Once this
   * replica is draining or stopped, it fails at once with UNAVAILABLE (`replicaDraining`), so the
   * watcher calls again and reaches another replica rather than getting a stream that ends.
   */
  watch(): Observable<PlaybackChange> {
    return new Observable<PlaybackChange>((subscriber) => {
      if (this.draining || this.stopped) {
        subscriber.error(replicaDraining());
        return;
      }
      this.watchers++;
      subscriber.next({ kind: 'resync' });
      const subscription = this.changes.subscribe(subscriber);
      return () => {
        subscription.unsubscribe();
        this.watchers--;
        if (this.watchers === 0) this.endDrainWait?.();
      };
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  /**
   * Drains this replica's watchers, on SIGTERM: sends each a `draining` event, refuses new ones,
   * and keeps every stream flowing until its watcher has closed it (having moved to another
   * replica) or WATCH_DRAIN_GRACE_MS has passed; then closes. Streams never finish on their own:
   * without this the gRPC server's drain would wait for them for its whole grace period.
   */
  drain(): Promise<void> {
    this.draining ??= (async () => {
      if (this.stopped) return;
      this.changes.next({ kind: 'draining' });
      if (this.watchers > 0) {
        this.logger.log(`draining: ${this.watchers} watcher(s) told to move to another replica`);
        await new Promise<void>((resolve) => {
          const grace = setTimeout(resolve, this.config.WATCH_DRAIN_GRACE_MS);
          grace.unref();
          this.endDrainWait = () => {
            clearTimeout(grace);
            resolve();
          };
        });
        if (this.watchers > 0) this.logger.warn(`draining: ending the streams of ${this.watchers} watcher(s) that did not move`);
      }
      await this.close();
    })();
    return this.draining;
  }

  /** Ends every watcher's stream at once and stops listening. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.endDrainWait?.();
    clearTimeout(this.retryTimer);
    this.changes.complete();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.config.DATABASE_URL, application_name: 'overture-playback-listen' });
    this.client = client;
    client.on('notification', (message) => {
      if (message.channel !== CHANGES_CHANNEL || !message.payload) return;
      const change = decodeChange(message.payload);
      if (change) this.changes.next(change);
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.stopped || this.client !== client) return;
    if (this.retry.failures > 0) this.logger.log(`listening for changes again after ${this.retry.failures} failed attempts`);
    this.retry.reset();
    this.changes.next({ kind: 'resync' });
  }

  private lost(client: pg.Client, error: unknown): void {
    // Only the first sign of trouble of the current connection counts (an error is followed by an end).
    if (this.stopped || this.client !== client) return;
    this.client = undefined;
    client.removeAllListeners('notification');
    void client.end().catch(() => undefined);
    const delay = this.retry.next();
    if (this.retry.failures === 1)
      this.logger.warn(`lost the change listener, reconnecting: ${error instanceof Error ? error.message : String(error)}`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
    this.retryTimer.unref();
  }
}
