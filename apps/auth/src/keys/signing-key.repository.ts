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

  /** The newest key that is active now (activated, not retired). */
  async findNewestActive(): Promise<StoredSigningKey | undefined> {
    const rows: SigningKeyRow[] = await this.db.query(
      `SELECT kid, public_jwk, private_key_encrypted FROM signing_keys
       WHERE activates_at <= now() AND (retires_at IS NULL OR retires_at > now())
       ORDER BY activates_at DESC, created_at DESC LIMIT 1`,
    );
    return rows[0] && toStored(rows[0]);
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
