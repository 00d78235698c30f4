import { createTestDatabase, type TestDatabase } from '@overture/testing';
import { metricsRegistry } from '@overture/metrics';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CSV_COLUMNS } from '../src/demo/synthetic-catalogue.js';
import { importCatalogue } from '../src/import/catalogue-import.js';
import { freshDatabase, PAIR_COUNT_ERRORS_SQL, pairCountSql, POSTING_BITS_ERRORS_SQL, track } from './fixtures.js';

describe('bulk import (COPY, upsert by ISRC, resume, rejected rows)', () => {
  let db: TestDatabase;
  let dir: string;
  const quiet = new PassThrough() as unknown as NodeJS.WriteStream;
  quiet.resume();

  beforeAll(async () => {
    db = await freshDatabase(inject('postgresServerUrl'), 'metadata_import');
    dir = await mkdtemp(path.join(tmpdir(), 'overture-import-'));
  });

  afterAll(async () => {
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const run = (file: string, batchSize = 7) =>
    importCatalogue({ databaseUrl: db.url, file, batchSize, rejectsFile: `${file}.rejected.jsonl`, progress: quiet });
  const importMetrics = async () => {
    const value = async (name: string, outcome?: string) =>
      (await metricsRegistry.getSingleMetric(name)?.get())?.values.find((v) => outcome === undefined || v.labels.outcome === outcome)
        ?.value ?? 0;
    return {
      rows: {
        created: await value('overture_import_rows_total', 'created'),
        updated: await value('overture_import_rows_total', 'updated'),
        rejected: await value('overture_import_rows_total', 'rejected'),
      },
      readBytes: await value('overture_import_read_bytes_total'),
      sourceBytes: await value('overture_import_source_bytes'),
    };
  };
  const count = async (sql: string): Promise<number> => {
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: db.url });
    await client.connect();
    try {
      return Number((await client.query<{ n: string }>(sql)).rows[0]?.n);
    } finally {
      await client.end();
    }
  };

  it('imports JSON Lines, reports bad rows with reasons without stopping, and a rerun changes nothing', async () => {
    const good = Array.from({ length: 30 }, (_, i) => track({ title: `Imported ${i}` }));
    const lines = good.map((t) => JSON.stringify(t));
    // The same ISRC again in the batch, without the word "0": an upsert during the bulk load.
    lines.splice(1, 0, JSON.stringify({ ...good[0], title: 'Replaced' }));
    lines.splice(3, 0, '{"title": "no isrc"');
    lines.splice(10, 0, JSON.stringify(track({}, { genres: ['polka-step'] })));
    lines.splice(20, 0, JSON.stringify({ ...track(), isrc: "'; DROP TABLE tracks; --" }));
    const file = path.join(dir, 'catalogue.jsonl');
    await writeFile(file, `${lines.join('\n')}\n`);

    const before = await importMetrics();
    const first = await run(file);
    expect(first).toMatchObject({ created: 30, updated: 1, rejected: 3 });
    // The ops port's view of the same import: rows by outcome, and the whole file read.
    const after = await importMetrics();
    expect(after.rows.created - before.rows.created).toBe(30);
    expect(after.rows.updated - before.rows.updated).toBe(1);
    expect(after.rows.rejected - before.rows.rejected).toBe(3);
    expect(after.readBytes - before.readBytes).toBe((await stat(file)).size);
    expect(after.sourceBytes).toBe((await stat(file)).size);
    // Term counts are recounted at the end of a bulk load: each equals its postings, and the word
    // the upsert took away counts 0 (counted by batch, it would be -1).
    expect(
      await count(
        `SELECT count(*) AS n FROM catalogue_terms c WHERE track_count <> (SELECT count(*) FROM track_postings p WHERE p.term_id = c.id)`,
      ),
    ).toBe(0);
    expect(await count(`SELECT track_count AS n FROM catalogue_terms WHERE term = 'w:replaced'`)).toBe(1);
    expect(await count(`SELECT track_count AS n FROM catalogue_terms WHERE term = 'w:0'`)).toBe(0);
    // Term pairs too: kept in memory by the bulk path, added at the end.
    expect(await count(PAIR_COUNT_ERRORS_SQL)).toBe(0);
    expect(await count(pairCountSql('g:pop', 'l:en'))).toBe(30);
    // Posting bits: made in Node by the bulk load, in SQL by its upsert; the same either way.
    expect(await count(POSTING_BITS_ERRORS_SQL)).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM track_postings WHERE bits = 0`)).toBe(0);
    expect(first.sampleRejects.map((r) => r.line)).toEqual([4, 11, 21]);
    expect(first.sampleRejects[0]?.reason).toMatch(/not JSON/);
    expect(first.sampleRejects[1]?.reason).toMatch(/attributes\.genres\.0: unknown genre/);
    expect(first.sampleRejects[2]?.reason).toMatch(/isrc/);
    expect((await readFile(`${file}.rejected.jsonl`, 'utf8')).trim().split('\n')).toHaveLength(3);

    // The bulk load vacuumed: every page all-visible, so walks are index-only from the first search.
    expect(
      await count(
        `SELECT count(*) AS n FROM pg_class WHERE relname IN ('tracks', 'track_postings') AND relpages > 0 AND relallvisible = relpages`,
      ),
    ).toBe(2);
    // Autovacuum, paused on the loaded tables for the load, is back on.
    expect(
      await count(
        `SELECT count(*) AS n FROM pg_class WHERE relname IN ('tracks', 'track_postings', 'catalogue_terms', 'albums') AND array_to_string(reloptions, ',') LIKE '%autovacuum_enabled%'`,
      ),
    ).toBe(0);

    const again = await run(file);
    expect(again).toMatchObject({ created: 0, updated: 0, unchanged: 30 });
    // A rerun writes nothing, not even row locks (a lock writes the tuple's xmax, dirtying its page);
    // only the row the first import upserted carries one, from that upsert.
    expect(await count(`SELECT count(*) AS n FROM tracks WHERE xmax <> '0' AND isrc <> '${good[0]?.isrc}'`)).toBe(0);
    expect(await count('SELECT count(*) AS n FROM tracks')).toBe(30);
    // The secondary indexes a first (bulk) load drops are all back.
    expect(await count('SELECT count(*) AS n FROM import_deferred_indexes')).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM pg_indexes WHERE indexname = 'track_postings_walk'`)).toBe(1);
  });

  it('updates changed rows by ISRC and moves their postings and counts', async () => {
    const rows = [track({ title: 'Before Change' }, { genres: ['blues'] })];
    const file = path.join(dir, 'change.jsonl');
    await writeFile(file, JSON.stringify(rows[0]));
    await run(file);
    await writeFile(file, JSON.stringify({ ...rows[0], title: 'After Change', attributes: { ...rows[0]!.attributes, genres: ['soul'] } }));
    expect(await run(file)).toMatchObject({ created: 0, updated: 1 });
    expect(await count(`SELECT track_count AS n FROM catalogue_terms WHERE term = 'g:blues'`)).toBe(0);
    expect(await count(`SELECT track_count AS n FROM catalogue_terms WHERE term = 'g:soul'`)).toBe(1);
    expect(
      await count(`SELECT count(*) AS n FROM track_postings p JOIN catalogue_terms c ON c.id = p.term_id WHERE c.term = 'w:before'`),
    ).toBe(0);
    expect(await count(pairCountSql('g:blues', 'm:happy'))).toBe(0);
    expect(await count(pairCountSql('m:happy', 'g:soul'))).toBe(1);
    expect(await count(PAIR_COUNT_ERRORS_SQL)).toBe(0);
    expect(await count(POSTING_BITS_ERRORS_SQL)).toBe(0);
  });

  it('resumes after the last committed batch of an interrupted import', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => track({ title: `Resumable ${i}` }));
    const file = path.join(dir, 'resume.jsonl');
    await writeFile(file, rows.map((t) => JSON.stringify(t)).join('\n'));
    // An import that committed the batches up to line 12 and then died left this checkpoint.
    const source = `${path.resolve(file)}:${(await readFile(file)).length}`;
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: db.url });
    await client.connect();
    await client.query('INSERT INTO import_checkpoints (source, line) VALUES ($1, 12)', [source]);
    await client.end();

    const resumed = await run(file, 5);
    expect(resumed).toMatchObject({ resumedAfterLine: 12, read: 8, created: 8 });
    // A resumed load recounts the pairs from the tracks.
    expect(await count(PAIR_COUNT_ERRORS_SQL)).toBe(0);
    // Finished: the checkpoint is gone, so the next run reads the whole file again.
    expect(await run(file)).toMatchObject({ resumedAfterLine: 0, read: 20, created: 12, unchanged: 8 });
  });

  it('reads a failed bulk batch again from the file and upserts it, rejects reported once', async () => {
    const own = await freshDatabase(inject('postgresServerUrl'), 'metadata_import_failover');
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: own.url });
    await client.connect();
    try {
      // The first COPY of artist "Boom" fails, as it would had a curator created it meanwhile.
      await client.query(`
        CREATE SEQUENCE boom_seq;
        CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.name = 'Boom' AND nextval('boom_seq') = 1 THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$;
        CREATE TRIGGER boom BEFORE INSERT ON artists FOR EACH ROW EXECUTE FUNCTION boom()`);
      const lines = Array.from({ length: 23 }, (_, i) =>
        JSON.stringify(track({ title: `Failover ${i}`, artist_name: i === 9 ? 'Boom' : `Artist ${i % 4}` })),
      );
      lines.splice(8, 0, '{"broken":');
      lines.splice(12, 0, JSON.stringify(track({}, { bpm: 9999 })));
      const file = path.join(dir, 'failover.jsonl');
      await writeFile(file, `${lines.join('\n')}\n`);
      const report = await importCatalogue({
        databaseUrl: own.url,
        file,
        batchSize: 7,
        rejectsFile: `${file}.rejected.jsonl`,
        progress: quiet,
      });
      expect(report).toMatchObject({ created: 23, updated: 0, rejected: 2 });
      expect(report.sampleRejects.map((r) => r.line)).toEqual([9, 13]);
      const row = async (sql: string) => (await client.query(sql)).rows[0];
      expect(
        await row(
          `SELECT (SELECT count(*) FROM tracks)::int AS tracks, (SELECT count(*) FROM artists WHERE name = 'Boom')::int AS boom, nextval('boom_seq')::int AS tries`,
        ),
      ).toEqual({
        tracks: 23,
        boom: 1,
        tries: 3,
      });
      expect(
        await row(
          `SELECT count(*)::int AS n FROM tracks t LEFT JOIN artists a ON a.id = t.artist_id WHERE a.name_key IS DISTINCT FROM lower(t.artist_name)`,
        ),
      ).toEqual({ n: 0 });
      expect(
        await row(
          `SELECT count(*)::int AS n FROM tracks t LEFT JOIN albums b ON b.id = t.album_id WHERE b.artist_id IS DISTINCT FROM t.artist_id`,
        ),
      ).toEqual({ n: 0 });
      // Bulk batches counted in memory, the failed one and those after it through the upsert: together right.
      expect(await row(PAIR_COUNT_ERRORS_SQL)).toEqual({ n: 0 });
      expect(await row(pairCountSql('g:pop', 'm:happy'))).toEqual({ n: 23 });
    } finally {
      await client.end();
      await own.drop();
    }
  });

  it('bulk-loads into a catalogue that holds a tenth of the file or less (a demo), counting on from its counts; upserts otherwise', async () => {
    const own = await freshDatabase(inject('postgresServerUrl'), 'metadata_import_grow');
    const lines = (tracks: ReturnType<typeof track>[]) => `${tracks.map((t) => JSON.stringify(t)).join('\n')}\n`;
    const into = (file: string, bulkLoad?: 'always' | 'never') =>
      importCatalogue({ databaseUrl: own.url, file, batchSize: 7, rejectsFile: `${file}.rejected.jsonl`, progress: quiet, bulkLoad });
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: own.url });
    await client.connect();
    const n = async (sql: string) => Number((await client.query<{ n: string }>(sql)).rows[0]?.n);
    try {
      const demo = Array.from({ length: 3 }, (_, i) => track({ title: `Demo ${i}` }, { genres: ['jazz'], moods: ['calm'] }));
      const demoFile = path.join(dir, 'demo.jsonl');
      await writeFile(demoFile, lines(demo));
      // Written row by row, as `seed-demo` writes, though an empty catalogue is otherwise a bulk load.
      expect(await into(demoFile, 'never')).toMatchObject({ created: 3, bulkLoad: false });
      expect(await n(`SELECT track_count AS n FROM catalogue_terms WHERE term = 'g:jazz'`)).toBe(3);

      // 30 rows onto 3 tracks: a bulk load, and one of its rows updates a demo track.
      const real = Array.from({ length: 29 }, (_, i) =>
        track({ title: `Real ${i}` }, { genres: ['jazz'], moods: i % 2 ? ['calm'] : ['happy'] }),
      );
      const realFile = path.join(dir, 'real.jsonl');
      await writeFile(realFile, lines([...real, { ...demo[0]!, title: 'Demo renamed' }]));
      expect(await into(realFile)).toMatchObject({ created: 29, updated: 1, bulkLoad: true });
      expect(await n('SELECT count(*) AS n FROM tracks')).toBe(32);
      // The demo tracks' counts, kept by their own writes, and the load's, added at its end: together right.
      expect(
        await n(
          `SELECT count(*) AS n FROM catalogue_terms c WHERE track_count <> (SELECT count(*) FROM track_postings p WHERE p.term_id = c.id)`,
        ),
      ).toBe(0);
      expect(await n(`SELECT track_count AS n FROM catalogue_terms WHERE term = 'g:jazz'`)).toBe(32);
      expect(await n(`SELECT track_count AS n FROM catalogue_terms WHERE term = 'w:demo'`)).toBe(3);
      expect(await n(`SELECT track_count AS n FROM catalogue_terms WHERE term = 'w:renamed'`)).toBe(1);
      expect(await n(PAIR_COUNT_ERRORS_SQL)).toBe(0);
      expect(await n(pairCountSql('g:jazz', 'm:calm'))).toBe(3 + 14);
      expect(await n(POSTING_BITS_ERRORS_SQL)).toBe(0);
      expect(await n('SELECT count(*) AS n FROM import_deferred_indexes')).toBe(0);
      expect(await n(`SELECT count(*) AS n FROM pg_indexes WHERE indexname = 'track_postings_walk'`)).toBe(1);

      // 31 rows onto 32 tracks: the indexes stay; unless asked for.
      const more = Array.from({ length: 31 }, (_, i) => track({ title: `More ${i}` }, { genres: ['jazz'] }));
      const moreFile = path.join(dir, 'more.jsonl');
      await writeFile(moreFile, lines(more));
      expect(await into(moreFile)).toMatchObject({ created: 31, bulkLoad: false });
      await writeFile(moreFile, lines(more.map((t) => ({ ...t, popularity: 60 }))));
      expect(await into(moreFile, 'always')).toMatchObject({ updated: 31, bulkLoad: true });
      expect(await n(`SELECT track_count AS n FROM catalogue_terms WHERE term = 'g:jazz'`)).toBe(63);
      expect(await n(PAIR_COUNT_ERRORS_SQL)).toBe(0);
    } finally {
      await client.end();
      await own.drop();
    }
  });

  it('refuses a missing file and a database without the schema, with a message and nothing written', async () => {
    const file = path.join(dir, 'refused.jsonl');
    await expect(run(path.join(dir, 'absent.jsonl'))).rejects.toMatchObject({
      name: 'CommandError',
      exitCode: 66,
      message: expect.stringMatching(/absent\.jsonl: no such file$/),
    });
    await writeFile(file, `${JSON.stringify(track())}\n`);
    const bare = await createTestDatabase(inject('postgresServerUrl'), 'metadata_import_bare');
    try {
      const into = importCatalogue({ databaseUrl: bare.url, file, batchSize: 7, rejectsFile: `${file}.rejected.jsonl`, progress: quiet });
      await expect(into).rejects.toMatchObject({
        name: 'CommandError',
        exitCode: 1,
        message: expect.stringMatching(/no catalogue schema: run `node apps\/metadata\/dist\/main\.js migrate`/),
      });
      const pg = await import('pg');
      const client = new pg.default.Client({ connectionString: bare.url });
      await client.connect();
      try {
        expect((await client.query(`SELECT 1 FROM pg_tables WHERE schemaname = 'public'`)).rowCount).toBe(0);
      } finally {
        await client.end();
      }
    } finally {
      await bare.drop();
    }
  });

  it('imports CSV with ;-separated lists', async () => {
    const t = track({ title: 'Comma, "Quoted" Title' }, { genres: ['jazz', 'soul'], moods: ['calm'], tags: ['live'] });
    const flat: Record<string, unknown> = { ...t, ...t.attributes };
    const cell = (v: unknown) => {
      const text = Array.isArray(v) ? v.join(';') : v === undefined ? '' : String(v);
      return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    };
    const file = path.join(dir, 'catalogue.csv');
    await writeFile(
      file,
      `${CSV_COLUMNS.join(',')}\n${CSV_COLUMNS.map((c) => cell(flat[c])).join(',')}\n${CSV_COLUMNS.map(() => 'x').join(',')}\n`,
    );
    const report = await run(file);
    expect(report).toMatchObject({ created: 1, rejected: 1 });
    expect(
      await count(`SELECT count(*) AS n FROM tracks WHERE title = 'Comma, "Quoted" Title' AND attributes->'genres' = '["jazz","soul"]'`),
    ).toBe(1);
  });
});
