import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';

/** A stored key: the fingerprint of the request it was first used with, and the answer given. */
export interface StoredKey {
  readonly fingerprint: Buffer;
  readonly response: unknown;
}

/** Where a key lives: whose it is (a user id, or another scope) and which operation it was used for. */
export interface KeyAddress {
  readonly scope: string;
  readonly operation: string;
  readonly key: string;
}

/** The `idempotency_keys` table, which every service that honours keys creates with a migration of its own. */
@Injectable()
export class IdempotencyRepository {
  /**
   * Takes the key's transaction-scoped advisory lock without waiting: false when another
   * transaction holds it, i.e. a call with the same key is in flight. Released at commit or rollback.
   */
  async tryLock(em: EntityManager, address: KeyAddress): Promise<boolean> {
    const rows: { locked: boolean }[] = await em.query(
      'SELECT pg_try_advisory_xact_lock(hashtextextended($1 || chr(31) || $2 || chr(31) || $3, 0)) AS locked',
      [address.scope, address.operation, address.key],
    );
    return rows[0]?.locked === true;
  }

  /** The key as stored, unless it is older than `retentionMs` (then it is as good as purged). */
  async find(em: EntityManager, address: KeyAddress, retentionMs: number): Promise<StoredKey | undefined> {
    const rows: StoredKey[] = await em.query(
      `SELECT fingerprint, response FROM idempotency_keys
        WHERE scope = $1 AND operation = $2 AND key = $3 AND created_at > now() - make_interval(secs => $4::double precision / 1000)`,
      [address.scope, address.operation, address.key, retentionMs],
    );
    return rows[0];
  }

  /** Stores the key with its answer; an expired row of the same key (not purged yet) is replaced. */
  async save(em: EntityManager, address: KeyAddress, fingerprint: Buffer, response: unknown): Promise<void> {
    await em.query(
      `INSERT INTO idempotency_keys (scope, operation, key, fingerprint, response) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (scope, operation, key) DO UPDATE
         SET fingerprint = EXCLUDED.fingerprint, response = EXCLUDED.response, created_at = now()`,
      [address.scope, address.operation, address.key, fingerprint, JSON.stringify(response)],
    );
  }

  /** Deletes up to `limit` keys older than `retentionMs`, oldest first; returns how many. */
  async purge(db: DataSource, retentionMs: number, limit: number): Promise<number> {
    const [, deleted]: [unknown, number] = await db.query(
      `DELETE FROM idempotency_keys WHERE (scope, operation, key) IN (
         SELECT scope, operation, key FROM idempotency_keys
          WHERE created_at < now() - make_interval(secs => $1::double precision / 1000)
          ORDER BY created_at LIMIT $2)`,
      [retentionMs, limit],
    );
    return deleted;
  }
}
