import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { createDataSource, pendingMigrations, runMigrations } from './data-source.js';
import { dropDatabase, ensureDatabase, withDatabase } from './ensure-database.js';

class CreateThings1700000000000 implements MigrationInterface {
  name = 'CreateThings1700000000000';
  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE TABLE things (id int PRIMARY KEY)');
  }
  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE things');
  }
}

describe('runMigrations (real PostgreSQL)', () => {
  const url = withDatabase(inject('postgresServerUrl'), `t_migrations_${process.pid}_${Date.now()}`);
  beforeAll(async () => {
    expect(await ensureDatabase(url)).toBe(true);
    expect(await ensureDatabase(url)).toBe(false);
  });
  afterAll(() => dropDatabase(url));

  it('applies each migration once even when several migrators start together', async () => {
    expect(await pendingMigrations(url, [CreateThings1700000000000])).toEqual(['CreateThings1700000000000']);
    const sources = await Promise.all(
      [1, 2, 3].map(() => createDataSource({ url, entities: [], migrations: [CreateThings1700000000000] }).initialize()),
    );
    try {
      const results = await Promise.all(sources.map((ds) => runMigrations(ds)));
      expect(results.flat()).toEqual(['CreateThings1700000000000']);
      const rows: { name: string }[] = await sources[0]!.query('SELECT name FROM migrations');
      expect(rows.map((r) => r.name)).toEqual(['CreateThings1700000000000']);
      expect(await pendingMigrations(url, [CreateThings1700000000000])).toEqual([]);
    } finally {
      await Promise.all(sources.map((ds) => ds.destroy()));
    }
  });
});
