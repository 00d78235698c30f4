import { createDataSource } from '@overture/database';
import { createTestDatabase, type TestDatabase } from '@overture/testing';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { KEYS, MODES, VOCAL_TYPES } from '../src/catalogue/attribute-vocabulary.js';
import { trackBits } from '../src/catalogue/term-bits.js';
import { trackTerms } from '../src/catalogue/track-terms.js';
import { migrations } from '../src/database/migrations/index.js';
import { syntheticCatalogue } from '../src/demo/synthetic-catalogue.js';
import { PAIR_COUNT_ERRORS_SQL, pairCountSql } from './fixtures.js';
import { seedTracks } from './seed-tracks.js';

/** Every posting as "term isrc bpm year", read through the track the posting points at. */
async function postings(db: DataSource, key: 'doc' | 'track_id'): Promise<string[]> {
  const join = key === 'doc' ? 't.doc = p.doc' : 't.id = p.track_id';
  const rows: { line: string }[] = await db.query(
    `SELECT c.term || ' ' || t.isrc || ' ' || t.bpm || ' ' || t.release_year || ' ' || (p.popularity = t.popularity) AS line
     FROM track_postings p JOIN tracks t ON ${join} JOIN catalogue_terms c ON c.id = p.term_id`,
  );
  return rows.map((r) => r.line).sort();
}

describe('catalogue migrations on a database that already has tracks', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  // Every key, mode and vocal type in turn (the synthetic catalogue draws no choir), so the posting
  // bits migration's SQL is compared with Node's over every value.
  const catalogue = [...syntheticCatalogue(300, 5)].map((t, i) => ({
    ...t,
    attributes: {
      ...t.attributes,
      key: KEYS[i % KEYS.length],
      mode: MODES[i % MODES.length],
      vocal_type: VOCAL_TYPES[i % VOCAL_TYPES.length],
    },
  }));
  const expected = catalogue
    .flatMap((t) => trackTerms(t).map((term) => `${term} ${t.isrc} ${t.attributes.bpm} ${t.release_date.slice(0, 4)} true`))
    .sort();

  beforeAll(async () => {
    db = await createTestDatabase(inject('postgresServerUrl'), 'metadata_migrations');
    // Up to the last catalogue migration: the tests below undo them from the top.
    const catalogueMigrations = migrations.slice(0, migrations.findIndex((m) => m.name === 'PostingBits1795310000000') + 1);
    dataSource = await createDataSource({ url: db.url, entities: [], migrations: catalogueMigrations }).initialize();
    await dataSource.runMigrations({ transaction: 'each' });
    await seedTracks(db.url, catalogue);
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  it('integer postings: down to uuid postings and up again rebuilds every posting with its doc, BPM, year and decade term', async () => {
    expect(await postings(dataSource, 'doc')).toEqual(expected);

    // Term pairs and posting bits came after: undone first.
    await dataSource.undoLastMigration({ transaction: 'each' });
    await dataSource.undoLastMigration({ transaction: 'each' });
    await dataSource.undoLastMigration({ transaction: 'each' });
    const before = await postings(dataSource, 'track_id');
    expect(before).toEqual(expected.filter((line) => !line.startsWith('y:')));

    await dataSource.runMigrations({ transaction: 'each' });
    expect(await postings(dataSource, 'doc')).toEqual(expected);
    // Maintained counts of the decade terms, and unique docs for every track.
    const decades: { term: string; track_count: string }[] = await dataSource.query(
      `SELECT term, track_count FROM catalogue_terms WHERE term LIKE 'y:%' ORDER BY term`,
    );
    const counted = new Map<string, number>();
    for (const t of catalogue) counted.set(`y:${t.release_date.slice(0, 3)}0`, (counted.get(`y:${t.release_date.slice(0, 3)}0`) ?? 0) + 1);
    expect(decades.map((d) => [d.term, Number(d.track_count)])).toEqual([...counted].sort());
    const [{ n, docs }]: [{ n: number; docs: number }] = await dataSource.query(
      'SELECT count(*)::int AS n, count(DISTINCT doc)::int AS docs FROM tracks',
    );
    expect(docs).toBe(n);
  });

  it('term pairs: counted from the tracks already there, dropped by down', async () => {
    const n = async (sql: string): Promise<number> => ((await dataSource.query(sql)) as { n: number }[])[0]!.n;
    // Counted from the tracks by this migration, when the test above ran it again.
    expect(await n(PAIR_COUNT_ERRORS_SQL)).toBe(0);
    const rockEnglish = catalogue.filter((t) => t.attributes.genres.includes('rock') && t.attributes.language === 'en').length;
    expect(rockEnglish).toBeGreaterThan(0);
    expect(await n(pairCountSql('g:rock', 'l:en'))).toBe(rockEnglish);

    await dataSource.undoLastMigration({ transaction: 'each' });
    await dataSource.undoLastMigration({ transaction: 'each' });
    expect(await n(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'catalogue_term_pairs'`)).toBe(0);
    await dataSource.runMigrations({ transaction: 'each' });
    expect(await n(PAIR_COUNT_ERRORS_SQL)).toBe(0);
    expect(await n(pairCountSql('g:rock', 'l:en'))).toBe(rockEnglish);
  });

  it('posting bits: every posting carries the bits of its track, the same in SQL as in Node; down drops them', async () => {
    const bitsOf = async (): Promise<Map<string, Set<string>>> => {
      const rows: { isrc: string; bits: string }[] = await dataSource.query(
        'SELECT t.isrc, p.bits::text AS bits FROM track_postings p JOIN tracks t ON t.doc = p.doc',
      );
      const byIsrc = new Map<string, Set<string>>();
      for (const row of rows) byIsrc.set(row.isrc, (byIsrc.get(row.isrc) ?? new Set()).add(row.bits));
      return byIsrc;
    };
    // Computed by the migration's SQL function from the attributes (run again by the tests above),
    // compared with Node's from the terms.
    const expectedBits = new Map(catalogue.map((t) => [t.isrc, new Set([trackBits(trackTerms(t))])]));
    expect(await bitsOf()).toEqual(expectedBits);
    // The catalogue sets every field the bits hold, and some tracks are explicit.
    expect(new Set(catalogue.map((t) => trackBits(trackTerms(t)))).size).toBeGreaterThan(100);
    expect(catalogue.some((t) => t.explicit)).toBe(true);

    await dataSource.undoLastMigration({ transaction: 'each' });
    const columns: { n: number }[] = await dataSource.query(
      `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'track_postings' AND column_name = 'bits'`,
    );
    expect(columns[0]!.n).toBe(0);
    expect(await postings(dataSource, 'doc')).toEqual(expected);
    await dataSource.runMigrations({ transaction: 'each' });
    expect(await bitsOf()).toEqual(expectedBits);
  });
});
