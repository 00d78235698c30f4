import { Inject, Injectable } from '@nestjs/common';
import type { authV1 } from '@overture/contracts';
import { SecurityEventRepository } from '../audit/security-event.repository.js';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config.js';
import { lastAdmin, unknownPermission } from '../auth.errors.js';
import type { SqlRunner } from '../tokens/refresh-token.repository.js';
import { PolicyRepository } from './policy.repository.js';

// Verifiers accept tokens up to this many seconds past `exp` (clock skew), so entries live that much longer.
const VERIFIER_CLOCK_TOLERANCE_S = 5;
// Without a holder of these, no one could grant roles or edit the policy again through the API.
const ADMIN_PERMISSIONS = ['policy:admin', 'users:admin'];

/**
 * Every policy change goes through here: written, versioned and announced (NOTIFY) in the caller's
 * transaction, so that verifiers hear of exactly the changes that committed, in commit order.
 */
@Injectable()
export class PolicyService {
  constructor(
    @Inject(AUTH_CONFIG) private readonly config: Pick<AuthConfig, 'AUTH_ACCESS_TOKEN_TTL_SECONDS'>,
    @Inject(PolicyRepository) private readonly policy: PolicyRepository,
    @Inject(SecurityEventRepository) private readonly audit: SecurityEventRepository,
  ) {}

  async getPolicy(): Promise<authV1.GetPolicyResponse> {
    const [version, roles, permissions] = await Promise.all([this.policy.version(), this.policy.roleMap(), this.policy.knownPermissions()]);
    return { version, roles, permissions };
  }

  async setRolePermissions(role: string, permissions: readonly string[], actorUserId: string): Promise<authV1.SetRolePermissionsResponse> {
    const known = new Set(await this.policy.knownPermissions());
    const unknown = permissions.filter((p) => !known.has(p));
    if (unknown.length > 0) {
      throw unknownPermission(unknown);
    }
    const unique = [...new Set(permissions)].sort();
    return this.policy.transaction(async (tx) => {
      await this.guardAdminPermissions(tx, () => this.policy.replaceRolePermissions(tx, role, unique));
      const version = await this.policy.nextVersion(tx);
      const roles = await this.policy.roleMap(tx);
      await this.policy.notify(tx, { version, roles: { roles } });
      await this.audit.record({ kind: 'POLICY_CHANGED', actorUserId, detail: { role, permissions: unique } }, tx);
      return { version, role: { role, permissions: unique } };
    });
  }

  /**
   * Runs `change` (in `tx`) and refuses it, rolling the transaction back, when it takes away the
   * last user's hold on `policy:admin` or `users:admin`. Concurrent guarded changes are serialised
   * on the policy row, so two admins cannot each remove the other.
   */
  async guardAdminPermissions<T>(tx: SqlRunner, change: () => Promise<T>): Promise<T> {
    await this.policy.lockForChange(tx);
    const before = await this.policy.heldPermissions(tx, ADMIN_PERMISSIONS);
    const result = await change();
    const after = new Set(await this.policy.heldPermissions(tx, ADMIN_PERMISSIONS));
    const lost = before.filter((permission) => !after.has(permission));
    if (lost.length > 0) {
      throw lastAdmin(lost);
    }
    return result;
  }

  /** Makes the access tokens of these sessions of `userId` stop working at every verifier. */
  async revokeSessions(tx: SqlRunner, userId: string, sessionIds: readonly string[]): Promise<void> {
    if (sessionIds.length === 0) return;
    const expiresAt = new Date(Date.now() + (this.config.AUTH_ACCESS_TOKEN_TTL_SECONDS + VERIFIER_CLOCK_TOLERANCE_S) * 1000);
    for (const sessionId of await this.policy.insertRevocations(tx, userId, sessionIds, expiresAt)) {
      const version = await this.policy.nextVersion(tx);
      await this.policy.notify(tx, { version, sessionRevoked: { sessionId, expiresAtMs: expiresAt.getTime() } });
    }
  }

  /** Makes the user's access tokens with an older roles version (carrying the old roles) stop working. */
  async rolesChanged(tx: SqlRunner, userId: string, rolesVersion: number): Promise<void> {
    const expiresAt = new Date(Date.now() + (this.config.AUTH_ACCESS_TOKEN_TTL_SECONDS + VERIFIER_CLOCK_TOLERANCE_S) * 1000);
    await this.policy.upsertRoleChange(tx, userId, rolesVersion, expiresAt);
    const version = await this.policy.nextVersion(tx);
    await this.policy.notify(tx, { version, userRolesChanged: { userId, rolesVersion, expiresAtMs: expiresAt.getTime() } });
  }
}
