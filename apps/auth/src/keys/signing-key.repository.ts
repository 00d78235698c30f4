import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { PublicJwk, StoredSigningKey } from './signing-key.js';

interface SigningKeyRow {
  kid: string;
  public_jwk: PublicJwk;
  private_key_encrypted: Buffer;
}

@Injectable()
export class SigningKeyRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /**
   * Stores the key from `generate` unless a key is active already; returns whether it stored one.
   * Replicas starting together serialise on a transaction-scoped advisory lock, so exactly one of
   * them generates the first key.
   */
  async insertIfNoneActive(generate: () => Promise<StoredSigningKey>): Promise<boolean> {
    return this.db.transaction(async (em) => {
      await em.query("SELECT pg_advisory_xact_lock(hashtextextended('overture.auth.signing_keys', 0))");
      // clock_timestamp(), not now(): now() is when this transaction began, possibly before the key that
      // a replica holding the lock just committed became active.
      const active: unknown[] = await em.query(
        `SELECT 1 FROM signing_keys
         WHERE activates_at <= clock_timestamp() AND (retires_at IS NULL OR retires_at > clock_timestamp()) LIMIT 1`,
      );
      if (active.length > 0) return false;
      const key = await generate();
      await em.query('INSERT INTO signing_keys (kid, public_jwk, private_key_encrypted) VALUES ($1, $2, $3)', [
        key.kid,
        JSON.stringify(key.publicJwk),
        key.privateKeyEncrypted,
      ]);
      return true;
    });
  }

  /**
   * Schedules a new key: published now, signing from `leadSeconds` from now; every key without a
   * retirement date retires `retireAfterSeconds` after the new one activates (once the last tokens
   * it signed have expired). With `onlyIfOlderThanSeconds`, does nothing unless the newest key is
   * that old and no key is already waiting to activate (scheduled rotation; replicas serialise on
   * the advisory lock, so only one of them rotates). Returns the new kid, if one was made.
   */
  async rotate(
    generate: () => Promise<StoredSigningKey>,
    options: { leadSeconds: number; retireAfterSeconds: number; onlyIfOlderThanSeconds?: number },
  ): Promise<string | undefined> {
    return this.db.transaction(async (em) => {
      await em.query("SELECT pg_advisory_xact_lock(hashtextextended('overture.auth.signing_keys', 0))");
      if (options.onlyIfOlderThanSeconds !== undefined) {
        const due: unknown[] = await em.query(
          `SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE activates_at > clock_timestamp())
             AND NOT EXISTS (SELECT 1 FROM signing_keys WHERE activates_at > clock_timestamp() - make_interval(secs => $1))`,
          [options.onlyIfOlderThanSeconds],
        );
        if (due.length === 0) return undefined;
      }
      const key = await generate();
      await em.query(
        `INSERT INTO signing_keys (kid, public_jwk, private_key_encrypted, activates_at)
         VALUES ($1, $2, $3, clock_timestamp() + make_interval(secs => $4))`,
        [key.kid, JSON.stringify(key.publicJwk), key.privateKeyEncrypted, options.leadSeconds],
      );
      await em.query(
        `UPDATE signing_keys SET retires_at = clock_timestamp() + make_interval(secs => $2)
         WHERE retires_at IS NULL AND kid <> $1`,
        [key.kid, options.leadSeconds + options.retireAfterSeconds],
      );
      return key.kid;
    });
  }

  /** Every key not yet retired, with its signing window, newest activation first. */
  async findUsable(): Promise<(StoredSigningKey & { activatesAt: Date; retiresAt: Date | null })[]> {
    const rows: (SigningKeyRow & { activates_at: Date; retires_at: Date | null })[] = await this.db.query(
      `SELECT kid, public_jwk, private_key_encrypted, activates_at, retires_at FROM signing_keys
       WHERE retires_at IS NULL OR retires_at > now() ORDER BY activates_at DESC, created_at DESC`,
    );
    return rows.map((row) => ({ ...toStored(row), activatesAt: row.activates_at, retiresAt: row.retires_at }));
  }

  /** Public keys of every key not yet retired, including ones published ahead of activation. */
  async findPublishable(): Promise<{ kid: string; publicJwk: PublicJwk }[]> {
    const rows: Pick<SigningKeyRow, 'kid' | 'public_jwk'>[] = await this.db.query(
      'SELECT kid, public_jwk FROM signing_keys WHERE retires_at IS NULL OR retires_at > now() ORDER BY activates_at DESC, kid',
    );
    return rows.map((row) => ({ kid: row.kid, publicJwk: row.public_jwk }));
  }
}

function toStored(row: SigningKeyRow): StoredSigningKey {
  return { kid: row.kid, publicJwk: row.public_jwk, privateKeyEncrypted: row.private_key_encrypted };
}
