import { Metadata, status } from '@grpc/grpc-js';
import { unary, withDeadline } from '@overture/grpc';
import type { TestDatabase } from '@overture/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { syntheticCatalogue } from '../src/demo/synthetic-catalogue.js';
import { failure, freshDatabase, searchRequest, startService, type MetadataTestService } from './fixtures.js';
import { seedTracks } from './seed-tracks.js';

const POOL_SIZE = 10;

/**
 * Connections metadata opens to cancel searches whose callers have gone, counted by PostgreSQL
 * itself (`pg_stat_database.sessions`, every session ever opened on the database).
 */
describe('cancelling searches whose callers have gone (real PostgreSQL, real gRPC)', () => {
  let db: TestDatabase;
  let service: MetadataTestService | undefined;
  let observer: pg.Client;

  /** Sessions opened on the test database so far, this observer's own included. */
  const sessions = async (): Promise<number> => {
    // Each backend reports its counters now and then; ask for the latest.
    await observer.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await observer.query<{ sessions: string }>('SELECT sessions FROM pg_stat_database WHERE datname = current_database()');
    return Number(rows[0]?.sessions);
  };
  const sessionsSince = (before: number) => async () => (await sessions()) - before;
  const search = (deadlineMs: number, genre = 'pop') =>
    unary(
      service!.client.searchTracks(
        searchRequest({ genre, limit: 50 }, { facets: ['mood', 'language'] }),
        new Metadata(),
        withDeadline(deadlineMs),
      ),
    );

  beforeAll(async () => {
    db = await freshDatabase(inject('postgresServerUrl'), 'metadata_cancel');
    await seedTracks(db.url, [...syntheticCatalogue(1500, 3)]);
    observer = new pg.Client({ connectionString: db.url });
    await observer.connect();
  });

  afterAll(async () => {
    await observer?.end();
    await service?.stop();
    await db?.drop();
  });

  it('cancels 100 searches stuck behind a lock over one cancel connection', async () => {
    const before = await sessions();
    service = await startService(db.url, { DATABASE_POOL_SIZE: String(POOL_SIZE) });

    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE track_postings, tracks IN ACCESS EXCLUSIVE MODE');
      // Ten at a time (one per pooled connection): each walk waits for the lock until its
      // caller's deadline has passed, so every one of them has a statement to cancel.
      for (let round = 0; round < 10; round++) {
        const gone = await Promise.all(Array.from({ length: POOL_SIZE }, () => failure(search(150))));
        expect(gone.map((e) => e?.code)).toEqual(Array<status>(POOL_SIZE).fill(status.DEADLINE_EXCEEDED));
      }
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
    // The service answers on its connections afterwards.
    expect((await search(5_000, 'rock')).tracks.length).toBeGreaterThan(0);
    await stopService();
    // Sessions opened since: the locker, and the service's pool, cache listener and cancel connection
    // (a connection per cancel made this 112).
    await expect.poll(sessionsSince(before), { timeout: 5_000, interval: 100 }).toBeGreaterThan(0);
    expect(await sessionsSince(before)()).toBeLessThanOrEqual(1 + POOL_SIZE + 2);
  });

  it('answers 200 searches with budgets of a few milliseconds without a connection per search', async () => {
    const before = await sessions();
    service = await startService(db.url, { DATABASE_POOL_SIZE: String(POOL_SIZE) });
    let timedOut = 0;
    for (let round = 0; round < 20; round++) {
      const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => failure(search(1 + ((round + i) % 8)))));
      timedOut += outcomes.filter((e) => e?.code === status.DEADLINE_EXCEEDED).length;
    }
    expect(timedOut).toBeGreaterThan(100);
    await stopService();
    // The pool and the cache listener; statements that end within moments of their caller's deadline
    // are not cancelled at all (a connection per cancel made this 29).
    await expect.poll(sessionsSince(before), { timeout: 5_000, interval: 100 }).toBeGreaterThan(0);
    expect(await sessionsSince(before)()).toBeLessThanOrEqual(POOL_SIZE + 2);
  });

  async function stopService(): Promise<void> {
    await service?.stop();
    service = undefined;
    // Backends report their last counters as they exit.
    await expect
      .poll(
        async () => {
          const { rows } = await observer.query<{ n: string }>(
            'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
          );
          return Number(rows[0]?.n);
        },
        { timeout: 5_000, interval: 50 },
      )
      .toBe(0);
  }
});
