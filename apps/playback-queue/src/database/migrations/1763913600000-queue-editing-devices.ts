import type { MigrationInterface, QueryRunner } from 'typeorm';

export class QueueEditingDevices1763913600000 implements MigrationInterface {
  name = 'QueueEditingDevices1763913600000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      ALTER TABLE queues
        ADD COLUMN shuffle boolean NOT NULL DEFAULT false,
        ADD COLUMN repeat text NOT NULL DEFAULT 'off' CHECK (repeat IN ('off', 'track', 'context'))`);
    // The play order before shuffling, restored when shuffle is turned off; null while not shuffled.
    await runner.query('ALTER TABLE queue_items ADD COLUMN original_position bigint');
    // Inserting and moving shift the positions of the following items in one UPDATE; a deferrable
    // constraint is checked at the end of that statement rather than row by row.
    await runner.query('ALTER TABLE queue_items DROP CONSTRAINT queue_items_user_id_position_key');
    await runner.query(`
      ALTER TABLE queue_items ADD CONSTRAINT queue_items_user_id_position_key
        UNIQUE (user_id, position) DEFERRABLE INITIALLY IMMEDIATE`);
    await runner.query(`
      ALTER TABLE playback_states
        ADD COLUMN playback_rate double precision NOT NULL DEFAULT 1 CHECK (playback_rate > 0 AND playback_rate <= 4)`);
    await runner.query(`
      CREATE TABLE devices (
        user_id uuid NOT NULL,
        device_id text NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        last_seen_at timestamptz NOT NULL,
        -- The client timestamp (or sequence) of the newest progress report accepted from the device.
        last_report_at bigint,
        PRIMARY KEY (user_id, device_id)
      )`);
    await runner.query('CREATE INDEX devices_user_seen ON devices (user_id, last_seen_at DESC)');
    // Recently played is paged by (occurred_at, id): a total order even when two events share a time.
    await runner.query('CREATE INDEX play_history_user_time_id ON play_history (user_id, occurred_at DESC, id DESC)');
    await runner.query('DROP INDEX play_history_user_time');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE INDEX play_history_user_time ON play_history (user_id, occurred_at DESC)');
    await runner.query('DROP INDEX play_history_user_time_id');
    await runner.query('DROP TABLE devices');
    await runner.query('ALTER TABLE playback_states DROP COLUMN playback_rate');
    await runner.query('ALTER TABLE queue_items DROP CONSTRAINT queue_items_user_id_position_key');
    await runner.query('ALTER TABLE queue_items ADD CONSTRAINT queue_items_user_id_position_key UNIQUE (user_id, position)');
    await runner.query('ALTER TABLE queue_items DROP COLUMN original_position');
    await runner.query('ALTER TABLE queues DROP COLUMN repeat, DROP COLUMN shuffle');
  }
}
