import { requestContext } from '@overture/tracing';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDataSource } from './data-source.js';

// statement_timeout as PostgreSQL reports it, in ms ('15s', '2987ms').
async function statementTimeoutMs(db: DataSource, isolation?: 'REPEATABLE READ'): Promise<{ inside: number; after: number }> {
  const show = async (run: (sql: string) => Promise<{ statement_timeout: string }[]>) => {
    const [row] = await run('SHOW statement_timeout');
    const value = row!.statement_timeout;
    return value.endsWith('ms') ? Number(value.slice(0, -2)) : Number(value.slice(0, -1)) * 1_000;
  };
  const inside = isolation
    ? await db.transaction(isolation, (em) => show((sql) => em.query(sql)))
    : await db.transaction((em) => show((sql) => em.query(sql)));
  return { inside, after: await show((sql) => db.query(sql)) };
}

describe('transactions under a deadline (real PostgreSQL)', () => {
  let db: DataSource;
  beforeAll(async () => {
    db = await createDataSource({ url: inject('postgresServerUrl'), entities: [], migrations: [], poolSize: 1 }).initialize();
  });
  afterAll(() => db.destroy());

  it('keep the usual statement timeout outside a call, or when the caller waits longer than it', async () => {
    expect(await statementTimeoutMs(db)).toEqual({ inside: 15_000, after: 15_000 });
    const far = await requestContext.run({ requestId: 'r-far', deadline: Date.now() + 60_000 }, () => statementTimeoutMs(db));
    expect(far).toEqual({ inside: 15_000, after: 15_000 });
  });

  it("give their statements only the caller's remaining budget, for that transaction only", async () => {
    for (const isolation of [undefined, 'REPEATABLE READ'] as const) {
      const before = Date.now();
      const seen = await requestContext.run({ requestId: 'r-near', deadline: before + 3_000 }, () => statementTimeoutMs(db, isolation));
      expect(seen.inside).toBeGreaterThan(0);
      expect(seen.inside).toBeLessThanOrEqual(3_000);
      expect(seen.after).toBe(15_000);
    }
  });

  it('stop a statement that outruns the budget', async () => {
    const attempt = requestContext.run({ requestId: 'r-late', deadline: Date.now() + 200 }, () =>
      db.transaction((em) => em.query('SELECT pg_sleep(5)')),
    );
    await expect(attempt).rejects.toThrow(/statement timeout/);
  });
});
