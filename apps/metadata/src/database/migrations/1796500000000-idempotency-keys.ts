import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Clients' idempotency keys, each stored with its write in the write's transaction: whose key it is
 * (scope) and for which operation, a SHA-256 fingerprint of the request it came with, and the gRPC
 * answer given, replayed to a retry. Kept IDEMPOTENCY_RETENTION_HOURS, then purged oldest first.
 */
export class IdempotencyKeys1796500000000 implements MigrationInterface {
  name = 'IdempotencyKeys1796500000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE idempotency_keys (
        scope text NOT NULL,
        operation text NOT NULL,
        key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
        fingerprint bytea NOT NULL,
        response jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (scope, operation, key)
      )`);
    await runner.query('CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE idempotency_keys');
  }
}
