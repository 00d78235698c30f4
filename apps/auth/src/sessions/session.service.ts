import { Inject, Injectable } from '@nestjs/common';
import { SecurityEventRepository } from '../audit/security-event.repository.js';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config.js';
import { sessionNotFound } from '../auth.errors.js';
import { PolicyService } from '../policy/policy.service.js';
import { hashRefreshToken } from '../tokens/refresh-token.js';
import type { SqlRunner } from '../tokens/refresh-token.repository.js';
import { SessionRepository, type SessionRecord } from './session.repository.js';

/**
 * A session is a refresh-token family with a row of its own. Ending one marks that row revoked
 * (which every refresh checks under the row's lock, so a concurrent refresh cannot outlive it) and
 * announces the session id to every verifier (policy stream), so its access tokens stop working
 * within seconds.
 */
@Injectable()
export class SessionService {
  constructor(
    @Inject(AUTH_CONFIG) private readonly config: Pick<AuthConfig, 'AUTH_ACCESS_TOKEN_TTL_SECONDS'>,
    @Inject(SessionRepository) private readonly sessions: SessionRepository,
    @Inject(PolicyService) private readonly policy: PolicyService,
    @Inject(SecurityEventRepository) private readonly audit: SecurityEventRepository,
  ) {}

  list(userId: string): Promise<SessionRecord[]> {
    return this.sessions.listActive(userId);
  }

  /** Ends one of the user's sessions; someone else's, an ended or an unknown session is NOT_FOUND. */
  async revoke(userId: string, sessionId: string): Promise<void> {
    const revoked = await this.sessions.transaction((tx) => this.end(tx, userId, { only: [sessionId], reason: 'revoked by user' }));
    if (revoked.length === 0) throw sessionNotFound(sessionId);
  }

  /** RFC 7009: ends the session of a refresh token (used or not); an unknown token is not an error. */
  async revokeByRefreshToken(refreshToken: string): Promise<void> {
    const found = await this.sessions.findByTokenHash(hashRefreshToken(refreshToken));
    if (!found) return;
    await this.sessions.transaction((tx) => this.end(tx, found.userId, { only: [found.sessionId], reason: 'refresh token revoked' }));
  }

  /**
   * Ends sessions of `userId` inside `tx`: the listed ones, or all but `except`, or all; a session
   * counts while it can refresh or its last access token may still work. Returns the ids ended now.
   */
  async end(tx: SqlRunner, userId: string, scope: { only?: readonly string[]; except?: string; reason: string }): Promise<string[]> {
    const ended = await this.sessions.revoke(tx, userId, {
      only: scope.only,
      except: scope.except,
      accessTokenTtlSeconds: this.config.AUTH_ACCESS_TOKEN_TTL_SECONDS,
    });
    await this.policy.revokeSessions(tx, userId, ended);
    for (const sessionId of ended) {
      await this.audit.record({ kind: 'SESSION_REVOKED', userId, sessionId, detail: { reason: scope.reason } }, tx);
    }
    return ended;
  }
}
