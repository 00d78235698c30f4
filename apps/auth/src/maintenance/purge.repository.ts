import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/**
 * Deletes, one bounded batch per call, rows nothing needs any more. Each batch locks its rows with
 * SKIP LOCKED, so replicas purging at the same time take different rows and a batch never waits for
 * (or holds up) a refresh or sign-in working on a row. Each returns the number of rows deleted.
 */
@Injectable()
export class PurgeRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** Sessions ended (revoked or expired) more than `retentionSeconds` ago, with their refresh tokens (ON DELETE CASCADE). */
  endedSessions(retentionSeconds: number, limit: number): Promise<number> {
    return this.deleteBatch(
      'sessions',
      'id',
      'coalesce(revoked_at, least(expires_at, idle_expires_at)) < now() - make_interval(secs => $1)',
      [retentionSeconds],
      limit,
    );
  }

  /** Refresh tokens that expired, or were used more than `retentionSeconds` ago (past the reuse-detection window). */
  refreshTokens(retentionSeconds: number, limit: number): Promise<number> {
    return this.deleteBatch(
      'refresh_tokens',
      'id',
      'expires_at < now() OR used_at < now() - make_interval(secs => $1)',
      [retentionSeconds],
      limit,
    );
  }

  /** Throttle keys idle for longer than their window and not blocked. */
  idleThrottleKeys(windowSeconds: number, limit: number): Promise<number> {
    return this.deleteBatch(
      'sign_in_throttle',
      'key',
      'updated_at < now() - make_interval(secs => $1) AND (blocked_until IS NULL OR blocked_until < now())',
      [windowSeconds],
      limit,
    );
  }

  securityEventsBefore(retentionDays: number, limit: number): Promise<number> {
    return this.deleteBatch('security_events', 'id', 'occurred_at < now() - make_interval(days => $1)', [retentionDays], limit);
  }

  private async deleteBatch(table: string, key: string, where: string, params: unknown[], limit: number): Promise<number> {
    const limitParam = `$${params.length + 1}`;
    const rows: unknown[] = await this.db.query(
      // A CTE, because TypeORM answers a bare DELETE … RETURNING with [rows, count] rather than rows.
      `WITH deleted AS (
         DELETE FROM ${table} WHERE ${key} IN (SELECT ${key} FROM ${table} WHERE ${where} LIMIT ${limitParam} FOR UPDATE SKIP LOCKED)
         RETURNING 1)
       SELECT 1 FROM deleted`,
      [...params, limit],
    );
    return rows.length;
  }
}
