import type { SecurityEventRepository } from '../audit/security-event.repository.js';
import { userNotFound } from '../auth.errors.js';
import type { PolicyService } from '../policy/policy.service.js';
import type { UserRepository } from './user.repository.js';
import type { User } from './user.js';

/**
 * Grants or revokes one role in one transaction: the users row, a policy event that makes the
 * user's earlier access tokens (with the old roles) stale at every verifier, and the audit entry.
 * Revoking the role through which the last user holds an admin permission is refused (LAST_ADMIN).
 * Shared by the GrantRole/RevokeRole RPCs and the `grant-role`/`revoke-role` commands.
 */
export function changeRole(
  deps: { users: UserRepository; policy: PolicyService; audit: SecurityEventRepository },
  change: { actorUserId?: string; userId: string; role: string; grant: boolean },
): Promise<User> {
  const { users, policy, audit } = deps;
  return users.transaction(async (tx) => {
    // Guarded for grants too: every role change then takes the policy row first, in one lock order.
    const result = await policy.guardAdminPermissions(tx, () => users.changeRole(tx, change.userId, change.role, change.grant));
    if (!result) throw userNotFound(change.userId);
    if (result.changed) {
      await policy.rolesChanged(tx, change.userId, result.user.rolesVersion);
      await audit.record(
        {
          kind: change.grant ? 'ROLE_GRANTED' : 'ROLE_REVOKED',
          userId: change.userId,
          actorUserId: change.actorUserId,
          detail: { role: change.role },
        },
        tx,
      );
    }
    return result.user;
  });
}
