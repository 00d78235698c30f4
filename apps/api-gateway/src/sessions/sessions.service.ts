import { Inject, Injectable } from '@nestjs/common';
import type { SessionsView } from '@overture/gateway-contract';
import { AuthClient } from '../downstream/auth.client.js';
import type { CallContext } from '../downstream/call-context.js';
import { toSessionsView } from './sessions.mapper.js';

/** The caller's own sign-in sessions. */
@Injectable()
export class SessionsService {
  constructor(@Inject(AuthClient) private readonly auth: AuthClient) {}

  async list(ctx: CallContext, userId: string): Promise<SessionsView> {
    return toSessionsView(await this.auth.listSessions(ctx, userId));
  }

  async revoke(ctx: CallContext, userId: string, sessionId: string): Promise<void> {
    await this.auth.revokeSession(ctx, userId, sessionId);
  }
}
