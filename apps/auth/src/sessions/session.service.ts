import { Inject, Injectable } from '@nestjs/common';
import { DomainError, ErrorCategory } from '@overture/grpc';
import { SecurityEventRepository } from '../audit/security-event.repository.js';
import { PolicyService } from '../policy/policy.service.js';
import { hashRefreshToken } from '../tokens/refresh-token.js';
import type { SqlRunner } from '../tokens/refresh-token.repository.js';
import { SessionRepository, type SessionRecord } from './session.repository.js';

/**
 * Sessions are refresh-token families. Ending one revokes its refresh tokens and announces the
 * session id to every verifier (policy stream), so its access tokens stop working within seconds.
 */
@Injectable()
export class SessionService {
  constructor(
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
    if (revoked.length === 0) throw new DomainError(ErrorCategory.NotFound, 'SESSION_NOT_FOUND', `no active session ${sessionId}`);
  }

  /** RFC 7009: ends the session of a refresh token; an unknown token is not an error. */
  async revokeByRefreshToken(refreshToken: string): Promise<void> {
    const family = await this.sessions.findFamilyByTokenHash(hashRefreshToken(refreshToken));
    if (!family) return;
    await this.sessions.transaction((tx) => this.end(tx, family.userId, { only: [family.familyId], reason: 'refresh token revoked' }));
  }

  /**
   * Ends sessions of `userId` inside `tx`: the listed ones, or all but `except`, or all. Returns the
   * session ids that were active and are ended now.
   */
  async end(tx: SqlRunner, userId: string, scope: { only?: readonly string[]; except?: string; reason: string }): Promise<string[]> {
    const ended = await this.sessions.revokeFamilies(tx, userId, scope.only, scope.except);
    await this.policy.revokeSessions(tx, userId, ended);
    for (const sessionId of ended) {
      await this.audit.record({ kind: 'SESSION_REVOKED', userId, sessionId, detail: { reason: scope.reason } }, tx);
    }
    return ended;
  }

  /** Every session id the user ever had, revoked, including already-ended ones (for account deletion). */
  async endAll(tx: SqlRunner, userId: string): Promise<void> {
    await this.sessions.revokeFamilies(tx, userId);
    await this.policy.revokeSessions(tx, userId, await this.sessions.allFamilies(tx, userId));
  }
}
