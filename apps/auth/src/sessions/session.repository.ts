import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { SqlRunner } from '../tokens/refresh-token.repository.js';

/** A session that can still refresh, as the user sees it. */
export interface SessionRecord {
  sessionId: string;
  createdAt: Date;
  lastUsedAt: Date;
  /** When it ends unless it refreshes first (never after its absolute end). */
  expiresAt: Date;
}

/** A session row locked for a refresh, with the roles of its user for the access token issued alongside. */
export interface LockedSession {
  id: string;
  userId: string;
  userRoles: string[];
  userRolesVersion: number;
  expiresAt: Date;
  revokedAt: Date | null;
}

export interface NewSession {
  id: string;
  userId: string;
  idleExpiresAt: Date;
  expiresAt: Date;
}

/** Which of a user's sessions to end. */
export interface EndScope {
  only?: readonly string[];
  except?: string;
  /** Sessions whose access tokens may still work this many seconds after their last refresh are ended too. */
  accessTokenTtlSeconds: number;
}

@Injectable()
export class SessionRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async insert(tx: SqlRunner, session: NewSession): Promise<void> {
    await tx.query('INSERT INTO sessions (id, user_id, idle_expires_at, expires_at) VALUES ($1, $2, $3, $4)', [
      session.id,
      session.userId,
      session.idleExpiresAt,
      session.expiresAt,
    ]);
  }

  /** The session, locked until the transaction ends: refreshes and revocations of it queue behind each other. */
  async lock(tx: SqlRunner, id: string): Promise<LockedSession | undefined> {
    const rows: { id: string; user_id: string; roles: string[]; roles_version: number; expires_at: Date; revoked_at: Date | null }[] =
      await tx.query(
        `SELECT s.id, s.user_id, u.roles, u.roles_version, s.expires_at, s.revoked_at
       FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.id = $1
       FOR UPDATE OF s`,
        [id],
      );
    const row = rows[0];
    return (
      row && {
        id: row.id,
        userId: row.user_id,
        userRoles: row.roles,
        userRolesVersion: row.roles_version,
        expiresAt: row.expires_at,
        revokedAt: row.revoked_at,
      }
    );
  }

  /** Records a refresh: used now, and alive until its new refresh token expires. */
  async touch(tx: SqlRunner, id: string, idleExpiresAt: Date): Promise<void> {
    await tx.query('UPDATE sessions SET last_used_at = now(), idle_expires_at = $2 WHERE id = $1', [id, idleExpiresAt]);
  }

  async listActive(userId: string): Promise<SessionRecord[]> {
    const rows: { id: string; created_at: Date; last_used_at: Date; ends_at: Date }[] = await this.db.query(
      `SELECT id, created_at, last_used_at, least(expires_at, idle_expires_at) AS ends_at
       FROM sessions
       WHERE user_id = $1 AND revoked_at IS NULL AND least(expires_at, idle_expires_at) > now()
       ORDER BY last_used_at DESC`,
      [userId],
    );
    return rows.map((row) => ({ sessionId: row.id, createdAt: row.created_at, lastUsedAt: row.last_used_at, expiresAt: row.ends_at }));
  }

  /**
   * Marks the user's sessions in `scope` revoked, and their unused refresh tokens with them; returns
   * the ids revoked now. Each UPDATE waits for a refresh holding the session row and then sees the
   * token it committed, because every refresh locks the session row first.
   */
  async revoke(tx: SqlRunner, userId: string, scope: EndScope): Promise<string[]> {
    const rows: { id: string }[] = await tx.query(
      // A CTE, because TypeORM answers a bare UPDATE … RETURNING with [rows, count] rather than rows.
      `WITH revoked AS (
         UPDATE sessions SET revoked_at = now()
         WHERE user_id = $1 AND revoked_at IS NULL
           AND (least(expires_at, idle_expires_at) > now() OR last_used_at > now() - make_interval(secs => $4))
           AND ($2::uuid[] IS NULL OR id = ANY ($2::uuid[]))
           AND ($3::uuid IS NULL OR id <> $3)
         RETURNING id)
       SELECT id FROM revoked ORDER BY id`,
      [userId, scope.only ?? null, scope.except ?? null, scope.accessTokenTtlSeconds],
    );
    const ids = rows.map((row) => row.id);
    if (ids.length > 0) {
      await tx.query(
        'UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = ANY ($1::uuid[]) AND revoked_at IS NULL AND used_at IS NULL',
        [ids],
      );
    }
    return ids;
  }

  /** The session and user of a refresh token, by its hash, whatever its state. */
  async findByTokenHash(tokenHash: Buffer): Promise<{ sessionId: string; userId: string } | undefined> {
    const rows: { family_id: string; user_id: string }[] = await this.db.query(
      'SELECT family_id, user_id FROM refresh_tokens WHERE token_hash = $1',
      [tokenHash],
    );
    return rows[0] && { sessionId: rows[0].family_id, userId: rows[0].user_id };
  }
}
