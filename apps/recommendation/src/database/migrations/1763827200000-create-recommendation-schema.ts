import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateRecommendationSchema1763827200000 implements MigrationInterface {
  name = 'CreateRecommendationSchema1763827200000';

  async up(runner: QueryRunner): Promise<void> {
    // The raw log; event_id is the idempotency key of at-least-once delivery from playback-queue.
    await runner.query(`
      CREATE TABLE play_events (
        event_id uuid PRIMARY KEY,
        user_id uuid NOT NULL,
        track_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('play', 'skip')),
        played_ms integer NOT NULL CHECK (played_ms >= 0),
        occurred_at timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query('CREATE INDEX play_events_user_occurred ON play_events (user_id, occurred_at DESC)');

    // This service's own copy of the catalogue attributes it scores on, filled from metadata.
    await runner.query(`
      CREATE TABLE track_features (
        track_id uuid PRIMARY KEY,
        genres text[] NOT NULL DEFAULT '{}',
        moods text[] NOT NULL DEFAULT '{}',
        language text NOT NULL DEFAULT '',
        bpm integer NOT NULL DEFAULT 0,
        popularity smallint NOT NULL DEFAULT 0 CHECK (popularity BETWEEN 0 AND 100),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // Candidate lookup by overlap with a taste profile (genres && …, moods && …).
    await runner.query('CREATE INDEX track_features_genres_gin ON track_features USING gin (genres)');
    await runner.query('CREATE INDEX track_features_moods_gin ON track_features USING gin (moods)');

    await runner.query(`
      CREATE TABLE user_track_stats (
        user_id uuid NOT NULL,
        track_id uuid NOT NULL,
        plays integer NOT NULL DEFAULT 0 CHECK (plays >= 0),
        skips integer NOT NULL DEFAULT 0 CHECK (skips >= 0),
        -- NULL while the user has only skipped the track.
        last_played_at timestamptz,
        last_event_at timestamptz NOT NULL,
        PRIMARY KEY (user_id, track_id)
      )`);
    await runner.query(
      'CREATE INDEX user_track_stats_recent_plays ON user_track_stats (user_id, last_played_at DESC) WHERE last_played_at IS NOT NULL',
    );
    await runner.query('CREATE INDEX user_track_stats_recent_events ON user_track_stats (user_id, last_event_at DESC)');

    // Stored in both directions, so "what was co-played with these tracks" is one index range per seed.
    await runner.query(`
      CREATE TABLE co_plays (
        track_a uuid NOT NULL,
        track_b uuid NOT NULL,
        count integer NOT NULL CHECK (count > 0),
        PRIMARY KEY (track_a, track_b),
        CHECK (track_a <> track_b)
      )`);

    await runner.query(`
      CREATE TABLE track_popularity (
        track_id uuid PRIMARY KEY,
        plays bigint NOT NULL CHECK (plays >= 0)
      )`);
    await runner.query('CREATE INDEX track_popularity_plays ON track_popularity (plays DESC, track_id)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE track_popularity');
    await runner.query('DROP TABLE co_plays');
    await runner.query('DROP TABLE user_track_stats');
    await runner.query('DROP TABLE track_features');
    await runner.query('DROP TABLE play_events');
  }
}
