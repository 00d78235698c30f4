import type { TestDatabase } from '@overture/testing';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { TrackBulkWriter, type BulkRow, type RereadRows } from '../src/import/track-bulk.writer.js';
import { freshDatabase, track } from './fixtures.js';

// The bulk-load path of the writer on its own: ids it makes itself, what it reads back at the start,
// and what happens when a batch fails because someone else wrote the same artist meanwhile.
describe('bulk writer: ids made by the load', () => {
  let db: TestDatabase;
  let client: pg.Client;
  let lookups: pg.Client;
  let other: pg.Client;
  let line = 0;
  // Every row handed to a writer, by line: the source a failed batch is read again from.
  const source = new Map<number, BulkRow>();
  const rows = (...tracks: ReturnType<typeof track>[]): BulkRow[] =>
    tracks.map((t) => {
      const row = { line: ++line, track: t };
      source.set(row.line, row);
      return row;
    });
  const reread: RereadRows = async ({ from, to }) => [...source.values()].filter((r) => r.line >= from && r.line <= to);
  const newWriter = () => new TrackBulkWriter(client, lookups, reread);
  const one = async (sql: string, params: unknown[] = []) => (await other.query(sql, params)).rows[0];

  beforeAll(async () => {
    db = await freshDatabase(inject('postgresServerUrl'), 'metadata_bulk_writer');
  });
  afterAll(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    [client, lookups, other] = [new pg.Client(db.url), new pg.Client(db.url), new pg.Client(db.url)];
    for (const c of [client, lookups, other]) await c.connect();
    await other.query('TRUNCATE tracks, track_postings, catalogue_terms, albums, artists, track_changes');
  });
  afterEach(async () => {
    for (const c of [client, lookups, other]) await c.end();
  });

  /** Every track's artist, album and terms are rows of their tables, with the track's names. */
  async function expectConsistent(): Promise<void> {
    const broken = await one(`
      SELECT
        (SELECT count(*) FROM tracks t LEFT JOIN artists a ON a.id = t.artist_id WHERE a.name_key IS DISTINCT FROM lower(t.artist_name))::int AS artists,
        (SELECT count(*) FROM tracks t LEFT JOIN albums b ON b.id = t.album_id
          WHERE b.artist_id IS DISTINCT FROM t.artist_id OR b.title_key IS DISTINCT FROM lower(t.album_title))::int AS albums,
        (SELECT count(*) FROM tracks t, unnest(t.term_ids) u (id) WHERE NOT EXISTS (SELECT 1 FROM catalogue_terms c WHERE c.id = u.id))::int AS terms,
        (SELECT count(*) FROM tracks t, unnest(t.term_ids) u (id)
          WHERE NOT EXISTS (SELECT 1 FROM track_postings p WHERE p.term_id = u.id AND p.doc = t.doc AND p.popularity = t.popularity))::int AS postings`);
    expect(broken).toEqual({ artists: 0, albums: 0, terms: 0, postings: 0 });
  }

  it('makes artist, album and term ids once, and reuses those the catalogue had (names with tabs and backslashes too)', async () => {
    // What an interrupted load or a curator left: an artist whose name needs COPY escapes, and a term.
    const odd = 'Tab\tand \\ Backslash';
    const { id: oddId } = await one(`INSERT INTO artists (name, name_key) VALUES ($1, lower($1)) RETURNING id`, [odd]);
    const { id: wordId } = await one(`INSERT INTO catalogue_terms (term) VALUES ('w:known') RETURNING id`);
    const writer = newWriter();
    await writer.startBulkLoad(false);

    const first = rows(
      track({ title: 'Known one', artist_name: odd, album_title: 'Same' }),
      track({ title: 'Known two', artist_name: odd.toUpperCase(), album_title: 'SAME' }),
      track({ title: 'Fresh', artist_name: 'New Artist', album_title: 'Debut' }),
    );
    // Prepared in two chunks, as the import does.
    const a = await writer.prepareAppend(first.slice(2), await writer.prepareAppend(first.slice(0, 2)));
    // The next batch is prepared before the first commits, as the import does; it reuses its ids.
    const b = await writer.prepareAppend(rows(track({ title: 'Fresh again', artist_name: 'new artist', album_title: 'Debut' })));
    expect(await writer.commitAppend(a)).toMatchObject({ created: 3, updated: 0 });
    expect(await writer.commitAppend(b)).toMatchObject({ created: 1, updated: 0 });

    expect(await one('SELECT count(*)::int AS n FROM artists')).toEqual({ n: 2 });
    expect(await one('SELECT count(*)::int AS n FROM albums')).toEqual({ n: 2 });
    expect(await one(`SELECT count(*)::int AS n FROM tracks WHERE artist_id = $1`, [oddId])).toEqual({ n: 2 });
    expect(await one(`SELECT count(*)::int AS n FROM tracks WHERE $1 = ANY(term_ids)`, [wordId])).toEqual({ n: 2 });
    expect(await one(`SELECT count(*)::int AS n FROM catalogue_terms WHERE term = 'w:fresh'`)).toEqual({ n: 1 });
    // Every row went in by the bulk path, none through the upsert (which would have failed over and
    // found the escaped name in the database): only the upsert maintains term counts batch by batch.
    expect(await one('SELECT sum(track_count)::int AS n FROM catalogue_terms')).toEqual({ n: 0 });
    await expectConsistent();
    // At the end of the load, the counts the writer kept; the word the catalogue had counts the two
    // tracks with it.
    await writer.recountTerms();
    expect(
      await one(
        `SELECT count(*)::int AS n FROM catalogue_terms c WHERE track_count <> (SELECT count(*) FROM track_postings p WHERE p.term_id = c.id)`,
      ),
    ).toEqual({ n: 0 });
    expect(await one(`SELECT track_count::int AS n FROM catalogue_terms WHERE id = $1`, [wordId])).toEqual({ n: 2 });
  });

  it('when a batch fails, writes it and every batch prepared before the failure through the upsert, with ids from the database', async () => {
    const writer = newWriter();
    await writer.startBulkLoad(false);
    const raced = rows(
      track({ title: 'Raced', artist_name: 'Racer', album_title: 'Lap' }),
      track({ title: 'Raced too', artist_name: 'Other', album_title: 'Lap' }),
    );
    const a = await writer.prepareAppend(raced.slice(1), await writer.prepareAppend(raced.slice(0, 1)));
    // b has no new artist or album (tracks have no foreign keys to catch a dangling id).
    const b = await writer.prepareAppend(rows(track({ title: 'After', artist_name: 'Racer', album_title: 'Lap' })));
    // A curator creates the same artist between the batch's preparation and its commit: the batch's
    // COPY of that artist violates the unique name.
    const { id: racer } = await one(`INSERT INTO artists (name, name_key) VALUES ('Racer', 'racer') RETURNING id`);

    // Its rows are read again and upserted, both of them.
    expect(await writer.commitAppend(a)).toMatchObject({ created: 2, rejected: [] });
    // b's ids came from the same caches: it must not reference the artist id the failed batch made.
    expect(await writer.commitAppend(b)).toMatchObject({ created: 1, rejected: [] });
    // Later batches look ids up too.
    const c = await writer.prepareAppend(rows(track({ title: 'Later', artist_name: 'Racer', album_title: 'Lap two' })));
    expect(await writer.commitAppend(c)).toMatchObject({ created: 1, rejected: [] });

    expect(await one(`SELECT count(*)::int AS n FROM tracks WHERE artist_id = $1`, [racer])).toEqual({ n: 3 });
    expect(await one('SELECT count(*)::int AS n FROM artists')).toEqual({ n: 2 });
    expect(await one('SELECT count(*)::int AS n FROM albums')).toEqual({ n: 3 });
    await expectConsistent();
  });

  it('sends an ISRC the catalogue already has through the upsert when a load resumes', async () => {
    const before = newWriter();
    await before.startBulkLoad(false);
    const original = track({ title: 'Committed before' });
    await before.commitAppend(await before.prepareAppend(rows(original)));

    // A resumed load reads the ISRCs already there: the same ISRC later in the file is an update.
    const resumed = newWriter();
    await resumed.startBulkLoad(true);
    const batch = await resumed.prepareAppend(rows({ ...original, title: 'Changed after' }, track({ title: 'Brand new' })));
    expect(await resumed.commitAppend(batch)).toMatchObject({ created: 1, updated: 1, rejected: [] });
    expect(await one(`SELECT title FROM tracks WHERE isrc = $1`, [original.isrc])).toEqual({ title: 'Changed after' });
    expect(await one('SELECT count(*)::int AS n FROM tracks')).toEqual({ n: 2 });
    await expectConsistent();

    // The resumed writer never counted what the first one appended: it counts from the postings.
    await resumed.recountTerms();
    expect(
      await one(
        `SELECT count(*)::int AS n FROM catalogue_terms c WHERE track_count <> (SELECT count(*) FROM track_postings p WHERE p.term_id = c.id)`,
      ),
    ).toEqual({ n: 0 });
    expect(await one(`SELECT track_count::int AS n FROM catalogue_terms WHERE term = '*'`)).toEqual({ n: 2 });
  });
});
