import { createDataSource } from '@overture/database';
import { createTestDatabase, migrate, type TestDatabase } from '@overture/testing';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrations } from '../src/database/migrations/index.js';
import { OutboxRepository } from '../src/outbox/outbox.repository.js';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('outbox lease (real PostgreSQL)', () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase(inject('postgresServerUrl'), 'playback_outbox');
    await migrate(db.url, migrations);
    dataSource = await createDataSource({ url: db.url, entities: [], migrations: [] }).initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  const seqs = async (): Promise<number[]> =>
    ((await dataSource.query('SELECT seq FROM outbox ORDER BY seq')) as { seq: string }[]).map((r) => Number(r.seq));

  it('purges delivered events past the retention, oldest first and at most the limit; keeps refused and pending ones', async () => {
    const user = randomUUID();
    for (let i = 0; i < 6; i++) {
      await dataSource.query(`INSERT INTO outbox (event_id, user_id, payload) VALUES ($1, $2, '{}')`, [randomUUID(), user]);
    }
    const [s1, s2, s3, s4, s5, s6] = await seqs();
    await dataSource.query(`UPDATE outbox SET delivered_at = now() - interval '2 days' WHERE seq = ANY($1::bigint[])`, [[s1, s2, s3, s4]]);
    await dataSource.query(`UPDATE outbox SET refused_reason = 'bad track id' WHERE seq = $1`, [s4]);
    await dataSource.query('UPDATE outbox SET delivered_at = now() WHERE seq = $1', [s5]);

    const lease = await new OutboxRepository(dataSource).tryLead();
    expect(lease).toBeDefined();
    try {
      expect(await lease!.purgeDelivered(DAY_MS, 2)).toBe(2);
      expect(await seqs()).toEqual([s3, s4, s5, s6]);
      expect(await lease!.purgeDelivered(DAY_MS, 100)).toBe(1);
      expect(await seqs()).toEqual([s4, s5, s6]);

      // A refused event leaves the pending set, with its reason.
      expect((await lease!.pending(10)).map((e) => e.seq)).toEqual([s6]);
      await lease!.markRefused(s6!, 'events[0].trackId: not a track id');
      expect(await lease!.pending(10)).toEqual([]);
      const [row] = (await dataSource.query('SELECT delivered_at IS NOT NULL AS done, refused_reason FROM outbox WHERE seq = $1', [
        s6,
      ])) as { done: boolean; refused_reason: string }[];
      expect(row).toEqual({ done: true, refused_reason: 'events[0].trackId: not a track id' });
    } finally {
      await lease?.release();
    }
  });
});
