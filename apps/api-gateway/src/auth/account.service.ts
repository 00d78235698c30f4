import { Inject, Injectable } from '@nestjs/common';
import type {
  ChangePasswordBody,
  DeleteAccountBody,
  RegisterBody,
  RevokeBody,
  TokenBody,
  TokenView,
  UserView,
} from '@overture/gateway-contract';
import { AuthClient } from '../downstream/auth.client.js';
import type { CallContext } from '../downstream/call-context.js';
import type { Written } from '../http/idempotency-key.js';
import { toTokenRequest, toTokenView, toUserView } from './auth.mapper.js';
import { withRetryAfter } from './retry-after.js';

/**
 * Accounts and their tokens as clients see them. Calls auth limits per client address (registration,
 * sign-in, password checks) carry that address, and their throttled answers become 429 with Retry-After.
 */
@Injectable()
export class AccountService {
  constructor(@Inject(AuthClient) private readonly auth: AuthClient) {}

  async register(ctx: CallContext, body: RegisterBody, clientAddress: string, key: string | undefined): Promise<Written<UserView>> {
    const request = { email: body.email, password: body.password, displayName: body.display_name, clientAddress, idempotencyKey: key };
    const { user, replayed } = await withRetryAfter(this.auth.register(ctx, request));
    return { view: toUserView(user), replayed };
  }

  async token(ctx: CallContext, body: TokenBody, clientAddress: string): Promise<TokenView> {
    return toTokenView(await withRetryAfter(this.auth.issueToken(ctx, toTokenRequest(body, clientAddress))));
  }

  async revoke(ctx: CallContext, body: RevokeBody): Promise<void> {
    // An access token is not revocable by itself (it expires in minutes); its session is ended via DELETE /v1/me/sessions/{id}.
    if (body.token_type_hint !== 'access_token') await this.auth.revokeToken(ctx, body.token);
  }

  async changePassword(ctx: CallContext, userId: string, body: ChangePasswordBody, clientAddress: string): Promise<void> {
    const request = { userId, currentPassword: body.current_password, newPassword: body.new_password, clientAddress };
    await withRetryAfter(this.auth.changePassword(ctx, request));
  }

  async deleteAccount(ctx: CallContext, userId: string, body: DeleteAccountBody, clientAddress: string): Promise<void> {
    await withRetryAfter(this.auth.deleteAccount(ctx, { userId, password: body.password, clientAddress }));
  }

  async me(ctx: CallContext, userId: string): Promise<UserView> {
    return toUserView(await this.auth.getUser(ctx, userId));
  }
}
