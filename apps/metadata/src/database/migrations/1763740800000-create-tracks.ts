import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateTracks1763740800000 implements MigrationInterface {
  name = 'CreateTracks1763740800000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE EXTENSION IF NOT EXISTS pg_trgm');
    await runner.query(`
      CREATE TABLE tracks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        title text NOT NULL,
        artist_name text NOT NULL,
        album_title text NOT NULL,
        duration_ms integer NOT NULL CHECK (duration_ms > 0),
        isrc text NOT NULL UNIQUE,
        release_year smallint NOT NULL,
        popularity smallint NOT NULL CHECK (popularity BETWEEN 0 AND 100),
        explicit boolean NOT NULL DEFAULT false,
        attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
        -- Hot numeric attribute kept as a real column for range filters (B-tree), derived from JSONB.
        bpm smallint GENERATED ALWAYS AS ((attributes->>'bpm')::smallint) STORED,
        search_text text GENERATED ALWAYS AS (lower(title || ' ' || artist_name || ' ' || album_title)) STORED,
        version integer NOT NULL DEFAULT 1,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // One GIN for containment filters (genres, moods, language); jsonb_path_ops is smaller and faster for @>.
    await runner.query('CREATE INDEX tracks_attributes_gin ON tracks USING gin (attributes jsonb_path_ops)');
    await runner.query('CREATE INDEX tracks_search_text_trgm ON tracks USING gin (search_text gin_trgm_ops)');
    // Matches the default sort and the keyset cursor (popularity desc, id).
    await runner.query('CREATE INDEX tracks_popularity_id ON tracks (popularity DESC, id)');
    await runner.query('CREATE INDEX tracks_bpm ON tracks (bpm)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE tracks');
  }
}
