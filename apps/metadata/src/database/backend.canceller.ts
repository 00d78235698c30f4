import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import pg from 'pg';
import { METADATA_CONFIG, type MetadataConfig } from '../metadata.config.js';

/** Cancels waiting to be sent; more are dropped (their statements run on until they end or statement_timeout). */
export const MAX_PENDING_CANCELS = 64;

/**
 * This replica's one path for cancelling statements: a single long-lived connection that sends
 * `pg_cancel_backend` for every backend waiting, in one statement per batch. A connection per cancel
 * (pg's own `cancel`, or a new client each time) turned client timeouts into a storm of new
 * PostgreSQL connections; here a burst of cancels costs one connection and a bounded queue.
 */
@Injectable()
export class BackendCanceller implements OnApplicationShutdown {
  private client?: Promise<pg.Client>;
  private readonly pending = new Map<number, (() => void)[]>();
  private draining = false;
  private stopped = false;

  constructor(@Inject(METADATA_CONFIG) private readonly config: Pick<MetadataConfig, 'DATABASE_URL'>) {}

  /**
   * Asks PostgreSQL to cancel what backend `pid` is running. Resolves once the request was sent (or
   * failed), or at once when MAX_PENDING_CANCELS are already waiting. Until it resolves, the caller
   * must keep the connection, so that the cancel cannot reach the next statement run on it.
   */
  cancel(pid: number): Promise<void> {
    const waiters = this.pending.get(pid);
    if (this.stopped || (!waiters && this.pending.size >= MAX_PENDING_CANCELS)) return Promise.resolve();
    return new Promise((resolve) => {
      if (waiters) waiters.push(resolve);
      else this.pending.set(pid, [resolve]);
      void this.drain();
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    const client = this.client;
    this.client = undefined;
    await client?.then((c) => c.end()).catch(() => undefined);
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.pending.size) {
        const batch = [...this.pending];
        this.pending.clear();
        try {
          const client = await this.connection();
          await client.query('SELECT pg_cancel_backend(pid) FROM unnest($1::int[]) AS pid', [batch.map(([pid]) => pid)]);
        } catch {
          // The statements then run until they end or statement_timeout stops them; the next batch reconnects.
          this.reset();
        } finally {
          for (const [, waiters] of batch) for (const resolve of waiters) resolve();
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private connection(): Promise<pg.Client> {
    this.client ??= (async () => {
      const client = new pg.Client({ connectionString: this.config.DATABASE_URL, application_name: 'overture-metadata-cancel' });
      client.on('error', () => this.reset());
      await client.connect();
      return client;
    })();
    return this.client;
  }

  private reset(): void {
    const client = this.client;
    this.client = undefined;
    void client?.then((c) => c.end()).catch(() => undefined);
  }
}
