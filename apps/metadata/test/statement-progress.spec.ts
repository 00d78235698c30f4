import { createTestDatabase, type TestDatabase } from '@overture/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { statementProgress, type StatementProgress } from '../src/import/statement-progress.js';

describe('statementProgress (real PostgreSQL)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(inject('postgresServerUrl'), 'metadata_progress');
  });
  afterAll(() => db?.drop());

  it('reads the phase and share done of an index build running on another connection', async () => {
    const builder = new pg.Client({ connectionString: db.url });
    const monitor = new pg.Client({ connectionString: db.url });
    await builder.connect();
    await monitor.connect();
    try {
      await builder.query(`CREATE TABLE probe AS SELECT g AS n, md5(g::text) AS t FROM generate_series(1, 300000) g`);
      const pid = (await builder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid as number;
      let running = true;
      const build = builder.query('CREATE INDEX probe_t ON probe (t, n)').finally(() => (running = false));
      const seen: StatementProgress[] = [];
      while (running) {
        const progress = await statementProgress(monitor, pid);
        if (progress) seen.push(progress);
      }
      await build;
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((p) => p.phase.startsWith('building index'))).toBe(true);
      expect(seen.every((p) => p.fraction === undefined || (p.fraction >= 0 && p.fraction <= 1))).toBe(true);
      // Nothing runs on the builder now: nothing is reported.
      expect(await statementProgress(monitor, pid)).toBeUndefined();
    } finally {
      await builder.end();
      await monitor.end();
    }
  });
});
