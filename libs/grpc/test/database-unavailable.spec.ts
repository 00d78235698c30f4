import { status } from '@grpc/grpc-js';
import { createDataSource, dropDatabase, ensureDatabase, withDatabase } from '@overture/database';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import pg from 'pg';
import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { ERROR_REASON_KEY, GrpcExceptionFilter } from '../src/index.js';
import { isDatabaseUnavailable } from '../src/database-unavailable.js';

/** What the exception filter answers for `error`: the gRPC code and the reason. */
async function answered(error: unknown): Promise<{ code: status; reason: unknown }> {
  const response = await firstValueFrom(new GrpcExceptionFilter().catch(error)).catch((e: unknown) => e);
  const { code, metadata } = response as { code: status; metadata: { get(key: string): unknown[] } };
  return { code, reason: metadata.get(ERROR_REASON_KEY)[0] };
}

async function failureOf(work: () => Promise<unknown>): Promise<unknown> {
  return work().then(
    () => {
      throw new Error('expected the work to fail');
    },
    (error: unknown) => error,
  );
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

const UNAVAILABLE = { code: status.UNAVAILABLE, reason: 'DATABASE_UNAVAILABLE' };

describe('a lost database is UNAVAILABLE with DATABASE_UNAVAILABLE (real PostgreSQL)', () => {
  const db = { url: '' };

  beforeAll(async () => {
    db.url = withDatabase(inject('postgresServerUrl'), `t_db_unavailable_${randomBytes(5).toString('hex')}`);
    await ensureDatabase(db.url);
  });
  afterAll(() => dropDatabase(db.url));

  it('when the server refuses the connection', async () => {
    const url = new URL(db.url);
    url.port = String(await closedPort());
    const dataSource = createDataSource({ url: url.toString(), entities: [], migrations: [] });
    const error = await failureOf(() => dataSource.initialize());
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(await answered(error)).toEqual(UNAVAILABLE);
  });

  it("when the server ends the connection under a query (an administrator's pg_terminate_backend)", async () => {
    const dataSource = await createDataSource({ url: db.url, entities: [], migrations: [], poolSize: 1 }).initialize();
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const [{ pid }] = (await dataSource.query('SELECT pg_backend_pid() AS pid')) as { pid: number }[];
      const sleeping = failureOf(() => dataSource.query('SELECT pg_sleep(10)'));
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      const error = await sleeping;
      expect((error as { driverError?: { code?: string } }).driverError?.code).toBe('57P01');
      expect(await answered(error)).toEqual(UNAVAILABLE);
      // The pool drops the dead connection once its end is read (a query that took it first fails
      // the same way), and then queries get a new one.
      await vi.waitFor(async () => expect(await dataSource.query('SELECT 1 AS one')).toEqual([{ one: 1 }]), { timeout: 5_000 });
    } finally {
      await admin.end();
      await dataSource.destroy();
    }
  });

  it('when no pooled connection comes free in time', async () => {
    // The timeout bounds the first connection too: long enough for a loaded machine to make it.
    const pool = new pg.Pool({ connectionString: db.url, max: 1, connectionTimeoutMillis: 2_000 });
    try {
      const held = await pool.connect();
      const timedOut = await failureOf(() => pool.query('SELECT 1'));
      held.release();
      expect(await answered(timedOut)).toEqual(UNAVAILABLE);
    } finally {
      await pool.end();
    }
  });

  it("but a query's own error stays what it is", async () => {
    const dataSource = await createDataSource({ url: db.url, entities: [], migrations: [], poolSize: 1 }).initialize();
    try {
      const error = await failureOf(() => dataSource.query('SELECT * FROM no_such_table'));
      expect(isDatabaseUnavailable(error)).toBe(false);
      expect(await answered(error)).toEqual({ code: status.INTERNAL, reason: 'INTERNAL' });
    } finally {
      await dataSource.destroy();
    }
  });
});
