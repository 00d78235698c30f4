import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { SqlRunner } from '../tokens/refresh-token.repository.js';

/** A sign-in session: one refresh-token family that still has a usable token. */
export interface SessionRecord {
  sessionId: string;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
}

interface SessionRow {
  family_id: string;
  created_at: Date;
  last_used_at: Date;
  expires_at: Date;
}

// A family is active while its newest token is neither used, revoked nor expired.
const ACTIVE_FAMILIES = `
  SELECT t.family_id, min(t.created_at) AS created_at, max(t.created_at) AS last_used_at, max(t.expires_at) AS expires_at
  FROM refresh_tokens t
  WHERE t.user_id = $1
  GROUP BY t.family_id
  HAVING bool_or(t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > now())`;

@Injectable()
export class SessionRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async listActive(userId: string): Promise<SessionRecord[]> {
    const rows: SessionRow[] = await this.db.query(`${ACTIVE_FAMILIES} ORDER BY max(t.created_at) DESC`, [userId]);
    return rows.map((row) => ({ sessionId: row.family_id, createdAt: row.created_at, lastUsedAt: row.last_used_at, expiresAt: row.expires_at }));
  }

  /** Revokes these families of `userId` (all of them when `sessionIds` is undefined); returns the ones revoked now. */
  async revokeFamilies(tx: SqlRunner, userId: string, sessionIds?: readonly string[], exceptSessionId?: string): Promise<string[]> {
    const rows: { family_id: string }[] = await tx.query(
      // A CTE, because TypeORM answers a bare UPDATE … RETURNING with [rows, count] rather than rows.
      `WITH revoked AS (
         UPDATE refresh_tokens SET revoked_at = now()
         WHERE user_id = $1 AND revoked_at IS NULL AND used_at IS NULL AND expires_at > now()
           AND ($2::uuid[] IS NULL OR family_id = ANY ($2::uuid[]))
           AND ($3::uuid IS NULL OR family_id <> $3)
         RETURNING family_id)
       SELECT family_id FROM revoked`,
      [userId, sessionIds ?? null, exceptSessionId ?? null],
    );
    return [...new Set(rows.map((row) => row.family_id))];
  }

  /** The family and user of a refresh token, by its hash, whatever its state. */
  async findFamilyByTokenHash(tokenHash: Buffer): Promise<{ familyId: string; userId: string } | undefined> {
    const rows: { family_id: string; user_id: string }[] = await this.db.query(
      'SELECT family_id, user_id FROM refresh_tokens WHERE token_hash = $1',
      [tokenHash],
    );
    return rows[0] && { familyId: rows[0].family_id, userId: rows[0].user_id };
  }

  /** Every family of the user (to revoke them all before the account goes). */
  async allFamilies(tx: SqlRunner, userId: string): Promise<string[]> {
    const rows: { family_id: string }[] = await tx.query('SELECT DISTINCT family_id FROM refresh_tokens WHERE user_id = $1', [userId]);
    return rows.map((row) => row.family_id);
  }
}
