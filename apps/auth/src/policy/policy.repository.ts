import { Inject, Injectable } from '@nestjs/common';
import type { authV1 } from '@overture/contracts';
import { DataSource } from 'typeorm';
import type { SqlRunner } from '../tokens/refresh-token.repository.js';

/** The NOTIFY channel every auth replica LISTENs on for policy changes. */
export const POLICY_CHANNEL = 'overture_policy';

interface RolePermissionRow {
  role: string;
  permissions: string[];
}

const ROLE_MAP_SQL = `
  SELECT r.role, coalesce(array_agg(rp.permission ORDER BY rp.permission) FILTER (WHERE rp.permission IS NOT NULL), '{}') AS permissions
  FROM unnest(ARRAY['listener', 'premium', 'curator', 'admin']::text[]) AS r(role)
  LEFT JOIN role_permissions rp ON rp.role = r.role
  GROUP BY r.role ORDER BY r.role`;

/** Roles, permissions, revocations and the policy version, and the NOTIFY that announces a change. */
@Injectable()
export class PolicyRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  transaction<T>(work: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Everything a verifier needs, read in one snapshot so that it matches the version it carries. */
  async snapshot(): Promise<authV1.WatchPolicyResponse> {
    return this.db.transaction('REPEATABLE READ', async (tx) => {
      const [{ version }]: { version: string }[] = await tx.query('SELECT version FROM policy_state');
      const roles = await this.roleMap(tx);
      const revoked: { session_id: string; expires_at_ms: string }[] = await tx.query(
        `SELECT session_id, (extract(epoch FROM expires_at) * 1000)::bigint AS expires_at_ms
         FROM session_revocations WHERE expires_at > now()`,
      );
      const changed: { user_id: string; roles_version: number; expires_at_ms: string }[] = await tx.query(
        `SELECT user_id, roles_version,
                (extract(epoch FROM expires_at) * 1000)::bigint AS expires_at_ms
         FROM user_role_changes WHERE expires_at > now()`,
      );
      return {
        version: Number(version),
        snapshot: {
          roles,
          revokedSessions: revoked.map((r) => ({ sessionId: r.session_id, expiresAtMs: Number(r.expires_at_ms) })),
          usersRolesChanged: changed.map((c) => ({
            userId: c.user_id,
            rolesVersion: c.roles_version,
            expiresAtMs: Number(c.expires_at_ms),
          })),
        },
      };
    });
  }

  async roleMap(runner: SqlRunner = this.db): Promise<authV1.RolePermissions[]> {
    const rows: RolePermissionRow[] = await runner.query(ROLE_MAP_SQL);
    return rows.map((row) => ({ role: row.role, permissions: row.permissions }));
  }

  async version(): Promise<number> {
    const [{ version }]: { version: string }[] = await this.db.query('SELECT version FROM policy_state');
    return Number(version);
  }

  async knownPermissions(): Promise<string[]> {
    const rows: { name: string }[] = await this.db.query('SELECT name FROM permissions ORDER BY name');
    return rows.map((row) => row.name);
  }

  async replaceRolePermissions(tx: SqlRunner, role: string, permissions: readonly string[]): Promise<void> {
    await tx.query('DELETE FROM role_permissions WHERE role = $1', [role]);
    if (permissions.length > 0) {
      await tx.query('INSERT INTO role_permissions (role, permission) SELECT $1, unnest($2::text[])', [role, permissions]);
    }
  }

  async insertRevocations(tx: SqlRunner, userId: string, sessionIds: readonly string[], expiresAt: Date): Promise<string[]> {
    const rows: { session_id: string }[] = await tx.query(
      `INSERT INTO session_revocations (session_id, user_id, expires_at) SELECT unnest($2::uuid[]), $1, $3
       ON CONFLICT (session_id) DO UPDATE SET expires_at = greatest(session_revocations.expires_at, EXCLUDED.expires_at)
       RETURNING session_id`,
      [userId, sessionIds, expiresAt],
    );
    return rows.map((row) => row.session_id);
  }

  /** Records that the user's roles are at `rolesVersion` now: tokens with an older one are stale. */
  async upsertRoleChange(tx: SqlRunner, userId: string, rolesVersion: number, expiresAt: Date): Promise<void> {
    await tx.query(
      `INSERT INTO user_role_changes (user_id, roles_version, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE SET roles_version = EXCLUDED.roles_version, expires_at = EXCLUDED.expires_at`,
      [userId, rolesVersion, expiresAt],
    );
  }

  /**
   * Locks the policy row until commit without bumping the version: changes that could take away the
   * last holder of an admin permission take it first, so their checks see each other's result.
   */
  async lockForChange(tx: SqlRunner): Promise<void> {
    await tx.query('SELECT version FROM policy_state FOR UPDATE');
  }

  /** Which of `permissions` at least one user holds through one of their roles. */
  async heldPermissions(tx: SqlRunner, permissions: readonly string[]): Promise<string[]> {
    const rows: { permission: string }[] = await tx.query(
      `WITH granting AS (
         SELECT permission, array_agg(role) AS roles FROM role_permissions WHERE permission = ANY ($1::text[]) GROUP BY permission)
       SELECT g.permission FROM granting g WHERE EXISTS (SELECT 1 FROM users u WHERE u.roles && g.roles)
       ORDER BY g.permission`,
      [permissions],
    );
    return rows.map((row) => row.permission);
  }

  /** Bumps the version (locking the row until commit, which orders concurrent changes). */
  async nextVersion(tx: SqlRunner): Promise<number> {
    const [{ version }]: { version: string }[] = await tx.query(
      // A CTE, because TypeORM answers a bare UPDATE … RETURNING with [rows, count] rather than rows.
      'WITH bumped AS (UPDATE policy_state SET version = version + 1 RETURNING version) SELECT version FROM bumped',
    );
    return Number(version);
  }

  /** Queues the event for every listening replica; PostgreSQL delivers it only if the transaction commits. */
  async notify(tx: SqlRunner, event: authV1.WatchPolicyResponse): Promise<void> {
    await tx.query('SELECT pg_notify($1, $2)', [POLICY_CHANNEL, JSON.stringify(event)]);
  }

  async pruneExpired(): Promise<void> {
    await this.db.query('DELETE FROM session_revocations WHERE expires_at <= now()');
    await this.db.query('DELETE FROM user_role_changes WHERE expires_at <= now()');
  }
}
