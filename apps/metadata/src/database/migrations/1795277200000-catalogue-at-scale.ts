import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Catalogue at scale: artists and albums, the remaining track fields, and the search structures.
 *
 * Search does not filter the tracks table with JSONB containment (the planner walked the primary key
 * for 355 ms on rare filters and counted facets by sequential scan). Instead every track has a set of
 * terms (`g:rock`, `m:calm`, `l:ja`, `b:120` BPM bucket, `w:midnight` text word, `*` all tracks) kept
 * in `track_postings`, ordered by (term, popularity desc, track id desc): a filtered page is an index walk
 * in the sort order that stops after one page, whatever the number of matches. `catalogue_terms`
 * holds each term once with its maintained track count (unfiltered facets, selectivity, prefix and
 * fuzzy lookups of text words).
 */
export class CatalogueAtScale1795277200000 implements MigrationInterface {
  name = 'CatalogueAtScale1795277200000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE artists (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        name_key text NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`
      CREATE TABLE albums (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        artist_id uuid NOT NULL REFERENCES artists (id),
        title text NOT NULL,
        title_key text NOT NULL,
        release_date date,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (artist_id, title_key)
      )`);
    await runner.query(`
      ALTER TABLE tracks
        ADD COLUMN artist_id uuid,
        ADD COLUMN album_id uuid,
        ADD COLUMN release_date date,
        ADD COLUMN regions text[] NOT NULL DEFAULT '{}',
        ADD COLUMN tier text NOT NULL DEFAULT 'free' CHECK (tier IN ('free', 'premium')),
        ADD COLUMN audio_ref text NOT NULL DEFAULT '',
        ADD COLUMN term_ids integer[] NOT NULL DEFAULT '{}',
        ADD COLUMN source_hash text`);
    // Tracks loaded before this migration get their artist, album and a release date from what they had.
    await runner.query(
      `INSERT INTO artists (name, name_key) SELECT DISTINCT ON (lower(artist_name)) artist_name, lower(artist_name) FROM tracks`,
    );
    await runner.query(`
      INSERT INTO albums (artist_id, title, title_key, release_date)
      SELECT DISTINCT ON (a.id, lower(t.album_title)) a.id, t.album_title, lower(t.album_title), make_date(t.release_year, 1, 1)
      FROM tracks t JOIN artists a ON a.name_key = lower(t.artist_name)`);
    await runner.query(`
      UPDATE tracks t SET artist_id = a.id, album_id = al.id, release_date = make_date(t.release_year, 1, 1)
      FROM artists a JOIN albums al ON al.artist_id = a.id
      WHERE a.name_key = lower(t.artist_name) AND al.title_key = lower(t.album_title)`);
    await runner.query(
      'ALTER TABLE tracks ALTER COLUMN artist_id SET NOT NULL, ALTER COLUMN album_id SET NOT NULL, ALTER COLUMN release_date SET NOT NULL',
    );
    // Artist and album ids are checked by the writers (they create both first), not by foreign keys:
    // a foreign-key probe per row would cost the bulk import a third of its rate.
    await runner.query('CREATE INDEX tracks_artist_popularity ON tracks (artist_id, popularity, id)');
    await runner.query('CREATE INDEX tracks_album ON tracks (album_id)');
    await runner.query('CREATE INDEX tracks_release_date_id ON tracks (release_date, id)');
    await runner.query('CREATE INDEX albums_artist ON albums (artist_id)');
    // Replaced by the postings below; each GIN cost the import more than all the other indexes together.
    await runner.query('DROP INDEX tracks_attributes_gin');
    await runner.query('DROP INDEX tracks_search_text_trgm');

    await runner.query(`
      CREATE TABLE catalogue_terms (
        id serial PRIMARY KEY,
        term text NOT NULL UNIQUE,
        track_count bigint NOT NULL DEFAULT 0
      )`);
    // Prefix expansion, fuzzy (trigram) matching of text words and facet term lists run on this small
    // dictionary, never on tracks.
    await runner.query('CREATE INDEX catalogue_terms_prefix ON catalogue_terms (term text_pattern_ops)');
    await runner.query(`CREATE INDEX catalogue_terms_word_trgm ON catalogue_terms USING gin (term gin_trgm_ops) WHERE term LIKE 'w:%'`);
    await runner.query(`
      CREATE TABLE track_postings (
        term_id integer NOT NULL,
        popularity smallint NOT NULL,
        track_id uuid NOT NULL
      ) WITH (fillfactor = 90)`);
    // Walked backwards: (popularity desc, track id desc) order, and a keyset cursor is one row comparison
    // `(popularity, track_id) < (p, id)`, a single index range however many tracks share a popularity.
    await runner.query('CREATE UNIQUE INDEX track_postings_walk ON track_postings (term_id, popularity, track_id)');

    await runner.query(`
      CREATE TABLE track_changes (
        seq bigserial PRIMARY KEY,
        track_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('created', 'updated', 'deleted')),
        version integer NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Where an interrupted import resumes: per source file, the last line whose batch committed.
    await runner.query(`
      CREATE TABLE import_checkpoints (
        source text PRIMARY KEY,
        line bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Secondary indexes an initial bulk load dropped and will rebuild at its end (kept here so an
    // interrupted load still rebuilds them).
    await runner.query(`
      CREATE TABLE import_deferred_indexes (
        name text PRIMARY KEY,
        definition text NOT NULL
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE import_deferred_indexes');
    await runner.query('DROP TABLE import_checkpoints');
    await runner.query('DROP TABLE track_changes');
    await runner.query('DROP TABLE track_postings');
    await runner.query('DROP TABLE catalogue_terms');
    await runner.query('CREATE INDEX tracks_search_text_trgm ON tracks USING gin (search_text gin_trgm_ops)');
    await runner.query('CREATE INDEX tracks_attributes_gin ON tracks USING gin (attributes jsonb_path_ops)');
    await runner.query(`
      ALTER TABLE tracks
        DROP COLUMN artist_id, DROP COLUMN album_id, DROP COLUMN release_date, DROP COLUMN regions,
        DROP COLUMN tier, DROP COLUMN audio_ref, DROP COLUMN term_ids, DROP COLUMN source_hash`);
    await runner.query('DROP TABLE albums');
    await runner.query('DROP TABLE artists');
  }
}
