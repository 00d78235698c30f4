import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { Backoff } from '@overture/resilience';
import pg from 'pg';
import { EMPTY, Observable, Subject } from 'rxjs';
import { PLAYBACK_CONFIG, type PlaybackConfig } from '../playback.config.js';
import { CHANGES_CHANNEL, decodeChange, type PlaybackChange } from './playback-change.js';

/**
 * This replica's LISTEN on the changes channel, shared by every watcher (WatchEvents stream).
 * Each replica listens, so a watcher on any replica hears every user's changes, wherever they
 * were made. Whenever the listening connection is (re)established, watchers get a resync: changes
 * committed while it was down were not heard.
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

  constructor(@Inject(PLAYBACK_CONFIG) private readonly config: Pick<PlaybackConfig, 'DATABASE_URL'>) {}

  onApplicationBootstrap(): void {
    // Nest may run bootstrap hooks twice (init, then listen): one listening connection is enough.
    if (this.started) return;
    this.started = true;
    void this.connect();
  }

  /**
   * Every change from now on, starting with a resync (the watcher knows nothing yet). Once this
   * replica is stopping, it ends at once, so the watcher goes to another replica.
   */
  watch(): Observable<PlaybackChange> {
    if (this.stopped) return EMPTY;
    return new Observable<PlaybackChange>((subscriber) => {
      subscriber.next({ kind: 'resync' });
      return this.changes.subscribe(subscriber);
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  /**
   * Ends every watcher's stream and stops listening. Called on SIGTERM before the gRPC server
   * drains (streams never finish on their own and would hold the drain for its whole grace period).
   */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
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
