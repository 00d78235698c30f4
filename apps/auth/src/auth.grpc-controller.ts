import type { Metadata } from '@grpc/grpc-js';
import { Controller, Inject, UseFilters } from '@nestjs/common';
import { authV1 } from '@overture/contracts';
import { parseRequest } from '@overture/grpc';
import { IdempotentCalls } from '@overture/idempotency';
import { ActsOnAnyUser, AllowAnonymous, Callers, principalOf, RequirePermission } from '@overture/identity';
import { createHash } from 'node:crypto';
import type { Observable } from 'rxjs';
import { changePasswordSchema, changeRoleSchema, deleteAccountSchema, getUserSchema, registerSchema } from './accounts/account.schemas.js';
import { AccountService } from './accounts/account.service.js';
import type { User } from './accounts/user.js';
import { SecurityEventRepository } from './audit/security-event.repository.js';
import { SigningKeyService } from './keys/signing-key.service.js';
import { listSecurityEventsSchema, setRolePermissionsSchema } from './policy/policy.schemas.js';
import { PolicyService } from './policy/policy.service.js';
import { PolicyStream } from './policy/policy-stream.js';
import { listSessionsSchema, revokeSessionSchema, revokeTokenSchema } from './sessions/session.schemas.js';
import { SessionService } from './sessions/session.service.js';
import { ThrottledFilter } from './throttle/throttled.filter.js';
import { issueTokenSchema } from './tokens/token.schemas.js';
import { TokenService } from './tokens/token.service.js';

/**
 * Only the gateway may call these methods (it alone acts for users and passes client addresses),
 * except the two that every verifier follows. Methods without @AllowAnonymous() need the caller's
 * access token (checked by the identity guard, as in every service); a `userId` in their request
 * must be the caller unless @ActsOnAnyUser().
 */
@Callers('api-gateway')
@Controller()
@UseFilters(ThrottledFilter)
@authV1.AuthServiceControllerMethods()
export class AuthGrpcController implements authV1.AuthServiceController {
  constructor(
    @Inject(AccountService) private readonly accounts: AccountService,
    @Inject(TokenService) private readonly tokens: TokenService,
    @Inject(SigningKeyService) private readonly keys: SigningKeyService,
    @Inject(SessionService) private readonly sessions: SessionService,
    @Inject(PolicyService) private readonly policy: PolicyService,
    @Inject(PolicyStream) private readonly policyStream: PolicyStream,
    @Inject(SecurityEventRepository) private readonly audit: SecurityEventRepository,
    @Inject(IdempotentCalls) private readonly calls: IdempotentCalls,
  ) {}

  // There is no user to own the key yet: a key is scoped by itself and a fingerprint of the email
  // and display name, so a retry of the same registration replays it and strangers cannot collide.
  // The password stays out of what is stored (an unsalted hash of it would be worth cracking).
  @AllowAnonymous()
  async register(request: authV1.RegisterRequest): Promise<authV1.RegisterResponse> {
    const { idempotencyKey, ...input } = parseRequest(registerSchema, request);
    const who = { email: input.email, displayName: input.displayName };
    const scope = `register:${createHash('sha256').update(JSON.stringify(who)).digest('hex')}`;
    const call = { key: idempotencyKey, scope, operation: 'Register', request: who };
    return this.calls.run(
      call,
      (user: User) => ({ user: toProto(user) }),
      (keyed) => this.accounts.register(input, keyed),
    );
  }

  @AllowAnonymous()
  async issueToken(request: authV1.IssueTokenRequest): Promise<authV1.IssueTokenResponse> {
    const grant = parseRequest(issueTokenSchema, request);
    return grant.kind === 'password'
      ? this.tokens.passwordGrant(grant.email, grant.password, grant.clientAddress)
      : this.tokens.refreshGrant(grant.refreshToken);
  }

  async getUser(request: authV1.GetUserRequest): Promise<authV1.GetUserResponse> {
    const { userId } = parseRequest(getUserSchema, request);
    return { user: toProto(await this.accounts.getUser(userId)) };
  }

  @Callers('api-gateway', 'metadata', 'playback-queue', 'recommendation')
  @AllowAnonymous()
  async getJwks(): Promise<authV1.GetJwksResponse> {
    return { keys: await this.keys.publicKeys() };
  }

  async changePassword(request: authV1.ChangePasswordRequest, metadata: Metadata): Promise<authV1.ChangePasswordResponse> {
    const input = parseRequest(changePasswordSchema, request);
    const caller = principalOf(metadata);
    await this.accounts.changePassword(input.userId, caller.sessionId, input.currentPassword, input.newPassword, input.clientAddress);
    return {};
  }

  async deleteAccount(request: authV1.DeleteAccountRequest): Promise<authV1.DeleteAccountResponse> {
    const input = parseRequest(deleteAccountSchema, request);
    await this.accounts.deleteAccount(input.userId, input.password, input.clientAddress);
    return {};
  }

  async listSessions(request: authV1.ListSessionsRequest, metadata: Metadata): Promise<authV1.ListSessionsResponse> {
    const { userId } = parseRequest(listSessionsSchema, request);
    const current = principalOf(metadata).sessionId;
    const sessions = await this.sessions.list(userId);
    return {
      sessions: sessions.map((s) => ({
        sessionId: s.sessionId,
        createdAt: s.createdAt.toISOString(),
        lastUsedAt: s.lastUsedAt.toISOString(),
        expiresAt: s.expiresAt.toISOString(),
        current: s.sessionId === current,
      })),
    };
  }

  async revokeSession(request: authV1.RevokeSessionRequest): Promise<authV1.RevokeSessionResponse> {
    const { userId, sessionId } = parseRequest(revokeSessionSchema, request);
    await this.sessions.revoke(userId, sessionId);
    return {};
  }

  @AllowAnonymous()
  async revokeToken(request: authV1.RevokeTokenRequest): Promise<authV1.RevokeTokenResponse> {
    await this.sessions.revokeByRefreshToken(parseRequest(revokeTokenSchema, request).refreshToken);
    return {};
  }

  @RequirePermission('users:admin')
  @ActsOnAnyUser()
  async grantRole(request: authV1.GrantRoleRequest, metadata: Metadata): Promise<authV1.GrantRoleResponse> {
    const { userId, role } = parseRequest(changeRoleSchema, request);
    return { user: toProto(await this.accounts.changeRole(principalOf(metadata).userId, userId, role, true)) };
  }

  @RequirePermission('users:admin')
  @ActsOnAnyUser()
  async revokeRole(request: authV1.RevokeRoleRequest, metadata: Metadata): Promise<authV1.RevokeRoleResponse> {
    const { userId, role } = parseRequest(changeRoleSchema, request);
    return { user: toProto(await this.accounts.changeRole(principalOf(metadata).userId, userId, role, false)) };
  }

  @RequirePermission('policy:admin')
  async setRolePermissions(request: authV1.SetRolePermissionsRequest, metadata: Metadata): Promise<authV1.SetRolePermissionsResponse> {
    const { role, permissions } = parseRequest(setRolePermissionsSchema, request);
    return this.policy.setRolePermissions(role, permissions, principalOf(metadata).userId);
  }

  @RequirePermission('policy:admin')
  getPolicy(): Promise<authV1.GetPolicyResponse> {
    return this.policy.getPolicy();
  }

  @RequirePermission('users:admin')
  @ActsOnAnyUser()
  async listSecurityEvents(request: authV1.ListSecurityEventsRequest): Promise<authV1.ListSecurityEventsResponse> {
    const filter = parseRequest(listSecurityEventsSchema, request);
    const events = await this.audit.list(filter);
    return {
      events: events.map((e) => ({
        eventId: e.id,
        occurredAt: e.occurredAt.toISOString(),
        kind: e.kind,
        userId: e.userId,
        actorUserId: e.actorUserId,
        sessionId: e.sessionId,
        clientAddress: e.clientAddress,
        detail: JSON.stringify(e.detail),
      })),
    };
  }

  // Verifiers (the gateway, every service) follow the policy without a user token of their own.
  @Callers('api-gateway', 'metadata', 'playback-queue', 'recommendation')
  @AllowAnonymous()
  watchPolicy(): Observable<authV1.WatchPolicyResponse> {
    return this.policyStream.watch();
  }
}

function toProto(user: User): authV1.User {
  return {
    userId: user.id,
    email: user.email,
    displayName: user.displayName,
    roles: user.roles,
    createdAt: user.createdAt.toISOString(),
  };
}
