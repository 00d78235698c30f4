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

  async register(ctx: CallContext, request: authV1.RegisterRequest): Promise<authV1.User> {
    const response = await this.auth.call(ctx, (c, md, opts) => c.register(request, md, opts));
    return required(response.user, 'auth', 'the new user');
  }

  issueToken(ctx: CallContext, request: authV1.IssueTokenRequest): Promise<authV1.IssueTokenResponse> {
    return this.auth.call(ctx, (c, md, opts) => c.issueToken(request, md, opts));
  }

  async getUser(ctx: CallContext, userId: string): Promise<authV1.User> {
    const response = await this.auth.call(ctx, (c, md, opts) => c.getUser({ userId }, md, opts));
    return required(response.user, 'auth', 'the user');
  }

  async getJwks(ctx: CallContext): Promise<authV1.Jwk[]> {
    const response = await this.auth.call(ctx, (c, md, opts) => c.getJwks({}, md, opts));
    return response.keys;
  }
}
