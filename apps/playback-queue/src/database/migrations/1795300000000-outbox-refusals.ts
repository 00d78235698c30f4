import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * An event recommendation refuses as invalid leaves the pending set like a delivered one
 * (`delivered_at` set: the relay is done with it) and keeps the refusal in `refused_reason`, so one
 * bad event no longer blocks every event after it. Delivered events are purged after a day; refused
 * ones are kept for inspection. The purge walks the oldest events first, by `seq`.
 */
export class OutboxRefusals1795300000000 implements MigrationInterface {
  name = 'OutboxRefusals1795300000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE outbox ADD COLUMN refused_reason text');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE outbox DROP COLUMN refused_reason');
  }
}
