import { Inject, Injectable } from '@nestjs/common';
import type { PolicyView, SecurityEventsQuery, SecurityEventsView, UserView } from '@overture/gateway-contract';
import { toUserView } from '../auth/auth.mapper.js';
import { AuthClient } from '../downstream/auth.client.js';
import type { CallContext } from '../downstream/call-context.js';
import { toPolicyView, toSecurityEventsView } from './admin.mapper.js';

/** Roles, the role→permission map and the security log, kept by auth. */
@Injectable()
export class AdminService {
  constructor(@Inject(AuthClient) private readonly auth: AuthClient) {}

  async changeRole(ctx: CallContext, userId: string, role: string, grant: boolean): Promise<UserView> {
    return toUserView(await this.auth.changeRole(ctx, userId, role, grant));
  }

  async policy(ctx: CallContext): Promise<PolicyView> {
    return toPolicyView(await this.auth.getPolicy(ctx));
  }

  /** Replaces a role's permissions and answers with the policy after the change. */
  async setRolePermissions(ctx: CallContext, role: string, permissions: string[]): Promise<PolicyView> {
    await this.auth.setRolePermissions(ctx, role, permissions);
    return this.policy(ctx);
  }

  async securityEvents(ctx: CallContext, query: SecurityEventsQuery): Promise<SecurityEventsView> {
    return toSecurityEventsView(await this.auth.listSecurityEvents(ctx, { userId: query.user_id ?? '', limit: query.limit }));
  }
}
