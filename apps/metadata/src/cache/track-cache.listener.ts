import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { TRACK_CACHE_CHANNEL } from '../catalogue/track-cache.channel.js';
import { METADATA_CONFIG, type MetadataConfig } from '../metadata.config.js';
import { TermCache } from './term-cache.js';
import { TrackCache } from './track-cache.js';

const RECONNECT_MS = 1_000;

/**
 * Keeps this replica's TrackCache and TermCache correct: LISTENs on the metadata database for the ids
 * that writers (in any replica, and the bulk import) NOTIFY at commit. While the listening connection
 * is down both caches are off, since invalidations could be missed; it reconnects every second.
 */
@Injectable()
export class TrackCacheListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('TrackCache');
  private client?: pg.Client;
  private started = false;
  private stopped = false;
  private retry?: NodeJS.Timeout;
  /** Whether the last connection attempt failed, so repeated failures are logged once. */
  private failing = false;

  constructor(
    @Inject(TrackCache) private readonly cache: TrackCache,
    @Inject(TermCache) private readonly terms: TermCache,
    @Inject(METADATA_CONFIG) private readonly config: MetadataConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Nest microservices run this hook twice (at init and at listen): a second connection would leak.
    if (this.started) return;
    this.started = true;
    await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.config.DATABASE_URL, application_name: 'overture-metadata-cache' });
    const lost = (error?: Error): void => {
      if (this.client !== client) return;
      this.client = undefined;
      this.cache.setEnabled(false);
      this.terms.setEnabled(false);
      if (!this.stopped) this.logger.warn(`cache invalidation channel lost (${error?.message ?? 'closed'}); cache off until it is back`);
      client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (message) => {
      // Any write may have added a term or moved a count: the whole term cache goes.
      this.terms.clear();
      if (message.payload === '*' || !message.payload) this.cache.clear();
      else this.cache.invalidate(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${TRACK_CACHE_CHANNEL}`);
      this.client = client;
      this.cache.setEnabled(true);
      this.terms.setEnabled(true);
      if (this.failing) this.logger.log('cache invalidation channel back; cache on');
      this.failing = false;
    } catch (error) {
      if (!this.failing)
        this.logger.warn(`cannot listen for cache invalidations: ${(error as Error).message}; cache off, retrying every second`);
      this.failing = true;
      await client.end().catch(() => undefined);
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.connect(), RECONNECT_MS);
  }
}
