import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

/** Runs SQL: the DataSource itself, or the EntityManager of an open transaction. */
export type SqlRunner = Pick<EntityManager, 'query'>;

export interface NewRefreshToken {
  familyId: string;
  userId: string;
  tokenHash: Buffer;
  expiresAt: Date;
}

/** A stored refresh token's state. */
export interface RefreshTokenRecord {
  id: string;
  sessionId: string;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
}

interface RefreshTokenRow {
  id: string;
  family_id: string;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
}

@Injectable()
export class RefreshTokenRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** Runs `work` in one transaction; it commits when `work` resolves and rolls back when it throws. */
  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async insert(token: NewRefreshToken, runner: SqlRunner = this.db): Promise<void> {
    await runner.query('INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)', [
      token.familyId,
      token.userId,
      token.tokenHash,
      token.expiresAt,
    ]);
  }

  /**
   * The token with this hash. Read it again after locking its session: a refresh that held the lock
   * meanwhile may have used it (READ COMMITTED gives every statement a fresh snapshot).
   */
  async findByHash(runner: SqlRunner, tokenHash: Buffer): Promise<RefreshTokenRecord | undefined> {
    const rows: RefreshTokenRow[] = await runner.query(
      'SELECT id, family_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = $1',
      [tokenHash],
    );
    const row = rows[0];
    return row && { id: row.id, sessionId: row.family_id, expiresAt: row.expires_at, usedAt: row.used_at, revokedAt: row.revoked_at };
  }

  async markUsed(tx: SqlRunner, id: string): Promise<void> {
    await tx.query('UPDATE refresh_tokens SET used_at = now() WHERE id = $1', [id]);
  }
}
