import { Inject, Injectable } from '@nestjs/common';
import type { authV1 } from '@overture/contracts';
import type { CallContext } from './call-context.js';
import { AUTH_DOWNSTREAM } from './downstream.tokens.js';
import type { Downstream } from './downstream.js';
import { required } from './required.js';

/** The auth service, as the gateway uses it. */
@Injectable()
export class AuthClient {
  constructor(@Inject(AUTH_DOWNSTREAM) private readonly auth: Downstream<authV1.AuthServiceClient>) {}

  /** The new user, and whether this is the stored answer of an earlier registration with the same idempotency key. */
  async register(ctx: CallContext, request: authV1.RegisterRequest): Promise<{ user: authV1.User; replayed: boolean }> {
    const response = await this.auth.call(ctx, (c, md, opts) => c.register(request, md, opts));
    return { user: required(response.user, 'auth', 'the new user'), replayed: response.replayed };
  }

  issueToken(ctx: CallContext, request: authV1.IssueTokenRequest): Promise<authV1.IssueTokenResponse> {
    return this.auth.call(ctx, (c, md, opts) => c.issueToken(request, md, opts));
  }

  async getUser(ctx: CallContext, userId: string): Promise<authV1.User> {
    const response = await this.auth.read(ctx, (c, md, opts) => c.getUser({ userId }, md, opts));
    return required(response.user, 'auth', 'the user');
  }

  async getJwks(ctx: CallContext): Promise<authV1.Jwk[]> {
    const response = await this.auth.read(ctx, (c, md, opts) => c.getJwks({}, md, opts));
    return response.keys;
  }

  async changePassword(ctx: CallContext, request: authV1.ChangePasswordRequest): Promise<void> {
    await this.auth.call(ctx, (c, md, opts) => c.changePassword(request, md, opts));
  }

  async deleteAccount(ctx: CallContext, request: authV1.DeleteAccountRequest): Promise<void> {
    await this.auth.call(ctx, (c, md, opts) => c.deleteAccount(request, md, opts));
  }

  async listSessions(ctx: CallContext, userId: string): Promise<authV1.Session[]> {
    return (await this.auth.read(ctx, (c, md, opts) => c.listSessions({ userId }, md, opts))).sessions;
  }

  async revokeSession(ctx: CallContext, userId: string, sessionId: string): Promise<void> {
    await this.auth.call(ctx, (c, md, opts) => c.revokeSession({ userId, sessionId }, md, opts));
  }

  async revokeToken(ctx: CallContext, refreshToken: string): Promise<void> {
    await this.auth.call(ctx, (c, md, opts) => c.revokeToken({ refreshToken }, md, opts));
  }

  async changeRole(ctx: CallContext, userId: string, role: string, grant: boolean): Promise<authV1.User> {
    const response = await this.auth.call(ctx, (c, md, opts) =>
      grant ? c.grantRole({ userId, role }, md, opts) : c.revokeRole({ userId, role }, md, opts),
    );
    return required(response.user, 'auth', 'the user');
  }

  getPolicy(ctx: CallContext): Promise<authV1.GetPolicyResponse> {
    return this.auth.read(ctx, (c, md, opts) => c.getPolicy({}, md, opts));
  }

  setRolePermissions(ctx: CallContext, role: string, permissions: string[]): Promise<authV1.SetRolePermissionsResponse> {
    return this.auth.call(ctx, (c, md, opts) => c.setRolePermissions({ role, permissions }, md, opts));
  }

  async listSecurityEvents(ctx: CallContext, request: authV1.ListSecurityEventsRequest): Promise<authV1.SecurityEvent[]> {
    return (await this.auth.read(ctx, (c, md, opts) => c.listSecurityEvents(request, md, opts))).events;
  }
}
