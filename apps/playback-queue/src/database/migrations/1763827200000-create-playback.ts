import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreatePlayback1763827200000 implements MigrationInterface {
  name = 'CreatePlayback1763827200000';

  async up(runner: QueryRunner): Promise<void> {
    // One row per user; every mutation locks it (SELECT … FOR UPDATE), which serialises a user's changes.
    await runner.query(`
      CREATE TABLE queues (
        user_id uuid PRIMARY KEY,
        current_item_id uuid,
        version bigint NOT NULL DEFAULT 0 CHECK (version >= 0)
      )`);
    await runner.query(`
      CREATE TABLE queue_items (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES queues (user_id) ON DELETE CASCADE,
        track_id uuid NOT NULL,
        duration_ms integer NOT NULL CHECK (duration_ms > 0),
        position bigint NOT NULL,
        added_at timestamptz NOT NULL DEFAULT now(),
        -- Target of the composite foreign keys below: a user's current item is always one of their own.
        UNIQUE (user_id, id),
        -- Play order; also serves the per-user list, next-item and count scans.
        UNIQUE (user_id, position)
      )`);
    await runner.query(`
      ALTER TABLE queues ADD CONSTRAINT queues_current_item_fk
        FOREIGN KEY (user_id, current_item_id) REFERENCES queue_items (user_id, id)`);
    await runner.query(`
      CREATE TABLE playback_states (
        user_id uuid PRIMARY KEY REFERENCES queues (user_id) ON DELETE CASCADE,
        device_id text NOT NULL,
        current_item_id uuid,
        position_ms integer NOT NULL CHECK (position_ms >= 0),
        is_playing boolean NOT NULL,
        updated_at timestamptz NOT NULL,
        version bigint NOT NULL CHECK (version >= 0),
        -- Whether a play or skip event was already recorded for the current item.
        recorded_current boolean NOT NULL DEFAULT false,
        FOREIGN KEY (user_id, current_item_id) REFERENCES queue_items (user_id, id)
      )`);
    // No foreign key to queue_items: history outlives the queue item it was played from.
    await runner.query(`
      CREATE TABLE play_history (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL,
        track_id uuid NOT NULL,
        queue_item_id uuid NOT NULL,
        kind text NOT NULL CHECK (kind IN ('play', 'skip')),
        played_ms integer NOT NULL CHECK (played_ms >= 0),
        occurred_at timestamptz NOT NULL
      )`);
    await runner.query('CREATE INDEX play_history_user_time ON play_history (user_id, occurred_at DESC)');
    await runner.query(`
      CREATE TABLE outbox (
        seq bigserial PRIMARY KEY,
        event_id uuid NOT NULL UNIQUE,
        user_id uuid NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz
      )`);
    // The relay's scan: undelivered events in seq order; delivered rows drop out of the index.
    await runner.query('CREATE INDEX outbox_undelivered ON outbox (seq) WHERE delivered_at IS NULL');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE outbox, play_history, playback_states, queue_items, queues');
  }
}
