import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Postings keyed by a 4-byte track number, carrying the track's BPM and year.
 *
 * - `tracks.doc` is a second, internal key: a sequence number scrambled by a multiplication modulo
 *   2^31 (a bijection, so unique), so doc order is unrelated to insertion order and a doc range is
 *   a uniform sample of the catalogue, as a range of the random UUID ids was. Postings, cursors and
 *   facet samples use it (and the artist page's order); the public id stays the UUID.
 * - `track_postings (term_id, popularity, doc) INCLUDE (bpm, year)`: at 10M tracks the 16-byte uuid
 *   was most of the postings index (7 GB of a 14 GB hot set), and COPY spent two thirds of its time
 *   parsing it (16.5 s against 5.8 s for an int per 1M tracks). BPM and year ride along so that a
 *   range filter is checked on the index entry while walking, without fetching the track row.
 * - Year decades become terms (`y:1960`), as BPM buckets are: a rare year range can then drive a
 *   walk instead of filtering the popularity order.
 */
export class IntegerPostings1795292400000 implements MigrationInterface {
  name = 'IntegerPostings1795292400000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE FUNCTION track_doc(n bigint) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
      AS $$ SELECT ((n * 2654435761) % 2147483648)::integer $$`);
    await runner.query('CREATE SEQUENCE tracks_doc_seq AS bigint MINVALUE 1 MAXVALUE 2147483647');
    await runner.query(`ALTER TABLE tracks ADD COLUMN doc integer NOT NULL DEFAULT track_doc(nextval('tracks_doc_seq'))`);
    await runner.query('ALTER SEQUENCE tracks_doc_seq OWNED BY tracks.doc');
    await runner.query('CREATE UNIQUE INDEX tracks_doc ON tracks (doc)');
    await runner.query('CREATE INDEX tracks_release_date_doc ON tracks (release_date, doc)');
    await runner.query('DROP INDEX tracks_release_date_id');
    await runner.query('CREATE INDEX tracks_artist_popularity_doc ON tracks (artist_id, popularity, doc)');
    await runner.query('DROP INDEX tracks_artist_popularity');
    // Left from the first catalogue schema, unused since search walks the postings: each cost the
    // import an index build (or an expression per row) and the disk its size.
    await runner.query('DROP INDEX tracks_popularity_id');
    await runner.query('DROP INDEX tracks_bpm');
    await runner.query('ALTER TABLE tracks DROP COLUMN search_text');

    // Decade terms for the tracks already there.
    await runner.query(`
      INSERT INTO catalogue_terms (term, track_count)
      SELECT 'y:' || (release_year / 10 * 10), count(*) FROM tracks GROUP BY 1
      ON CONFLICT (term) DO UPDATE SET track_count = EXCLUDED.track_count`);
    await runner.query(`
      UPDATE tracks t SET term_ids = t.term_ids || c.id
      FROM catalogue_terms c WHERE c.term = 'y:' || (t.release_year / 10 * 10)`);

    await runner.query(`
      CREATE TABLE track_postings_v2 (
        term_id integer NOT NULL,
        popularity smallint NOT NULL,
        doc integer NOT NULL,
        bpm smallint,
        year smallint NOT NULL
      ) WITH (fillfactor = 90)`);
    await runner.query(`
      INSERT INTO track_postings_v2 (term_id, popularity, doc, bpm, year)
      SELECT u.term_id, t.popularity, t.doc, t.bpm, t.release_year FROM tracks t CROSS JOIN unnest(t.term_ids) AS u(term_id)
      ORDER BY 1, 2, 3`);
    await runner.query('DROP TABLE track_postings');
    await runner.query('ALTER TABLE track_postings_v2 RENAME TO track_postings');
    // Walked backwards: (popularity desc, doc desc) order; a keyset cursor is one row comparison.
    await runner.query('CREATE UNIQUE INDEX track_postings_walk ON track_postings (term_id, popularity, doc) INCLUDE (bpm, year)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE track_postings_v1 (
        term_id integer NOT NULL,
        popularity smallint NOT NULL,
        track_id uuid NOT NULL
      ) WITH (fillfactor = 90)`);
    await runner.query(`
      INSERT INTO track_postings_v1 (term_id, popularity, track_id)
      SELECT p.term_id, p.popularity, t.id FROM track_postings p JOIN tracks t ON t.doc = p.doc
      WHERE p.term_id NOT IN (SELECT id FROM catalogue_terms WHERE term LIKE 'y:%')`);
    await runner.query('DROP TABLE track_postings');
    await runner.query('ALTER TABLE track_postings_v1 RENAME TO track_postings');
    await runner.query('CREATE UNIQUE INDEX track_postings_walk ON track_postings (term_id, popularity, track_id)');
    await runner.query(`
      UPDATE tracks t SET term_ids = array(SELECT x FROM unnest(t.term_ids) x WHERE x NOT IN (SELECT id FROM catalogue_terms WHERE term LIKE 'y:%'))`);
    await runner.query(`DELETE FROM catalogue_terms WHERE term LIKE 'y:%'`);
    await runner.query('CREATE INDEX tracks_release_date_id ON tracks (release_date, id)');
    await runner.query('CREATE INDEX tracks_artist_popularity ON tracks (artist_id, popularity, id)');
    await runner.query('DROP INDEX tracks_artist_popularity_doc');
    await runner.query(
      `ALTER TABLE tracks ADD COLUMN search_text text GENERATED ALWAYS AS (lower(title || ' ' || artist_name || ' ' || album_title)) STORED`,
    );
    await runner.query('CREATE INDEX tracks_bpm ON tracks (bpm)');
    await runner.query('CREATE INDEX tracks_popularity_id ON tracks (popularity DESC, id)');
    await runner.query('DROP INDEX tracks_release_date_doc');
    await runner.query('DROP INDEX tracks_doc');
    await runner.query('ALTER TABLE tracks DROP COLUMN doc');
    await runner.query('DROP FUNCTION track_doc(bigint)');
  }
}
