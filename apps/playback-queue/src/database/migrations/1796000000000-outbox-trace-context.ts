import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each outbox event keeps the W3C trace context (`traceparent`) of the call that wrote it, and the
 * relay sends it with the event, so that recommendation's ingestion links back to the play's
 * trace. Null for events written before, or outside a call.
 */
export class OutboxTraceContext1796000000000 implements MigrationInterface {
  name = 'OutboxTraceContext1796000000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE outbox ADD COLUMN traceparent text');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE outbox DROP COLUMN traceparent');
  }
}
