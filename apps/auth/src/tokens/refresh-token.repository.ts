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

/** A stored refresh token, with the roles of its user for the access token issued alongside. */
export interface RefreshTokenRecord {
  id: string;
  familyId: string;
  userId: string;
  userRoles: string[];
  userRolesVersion: number;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
}

interface RefreshTokenRow {
  id: string;
  family_id: string;
  user_id: string;
  roles: string[];
  roles_version: number;
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

  /** The token with this hash, locked until the transaction ends so concurrent uses queue behind each other. */
  async findByHashForUpdate(tx: SqlRunner, tokenHash: Buffer): Promise<RefreshTokenRecord | undefined> {
    const rows: RefreshTokenRow[] = await tx.query(
      `SELECT t.id, t.family_id, t.user_id, u.roles, u.roles_version, t.expires_at, t.used_at, t.revoked_at
       FROM refresh_tokens t JOIN users u ON u.id = t.user_id
       WHERE t.token_hash = $1
       FOR UPDATE OF t`,
      [tokenHash],
    );
    const row = rows[0];
    return (
      row && {
        id: row.id,
        familyId: row.family_id,
        userId: row.user_id,
        userRoles: row.roles,
        userRolesVersion: row.roles_version,
        expiresAt: row.expires_at,
        usedAt: row.used_at,
        revokedAt: row.revoked_at,
      }
    );
  }

  async markUsed(tx: SqlRunner, id: string): Promise<void> {
    await tx.query('UPDATE refresh_tokens SET used_at = now() WHERE id = $1', [id]);
  }

  async revokeFamily(tx: SqlRunner, familyId: string): Promise<void> {
    await tx.query('UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL', [familyId]);
  }
}
