import { Inject, Injectable } from '@nestjs/common';
import { DomainError, ErrorCategory } from '@overture/grpc';
import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { AccountService } from '../accounts/account.service.js';
import { SecurityEventRepository } from '../audit/security-event.repository.js';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config.js';
import { SigningKeyService } from '../keys/signing-key.service.js';
import { PolicyService } from '../policy/policy.service.js';
import { SIGNING_ALGORITHM } from '../keys/signing-key.js';
import { generateRefreshToken, hashRefreshToken } from './refresh-token.js';
import { RefreshTokenRepository, type SqlRunner } from './refresh-token.repository.js';

export interface IssuedTokens {
  accessToken: string;
  tokenType: 'Bearer';
  /** Seconds. */
  expiresIn: number;
  refreshToken: string;
  /** Seconds. */
  refreshExpiresIn: number;
}

interface Session {
  userId: string;
  familyId: string;
  roles: string[];
  rolesVersion: number;
}

type RefreshOutcome = { kind: 'issued'; tokens: IssuedTokens } | { kind: 'invalid' } | { kind: 'reused' };

/**
 * Issues access tokens (EdDSA-signed JWTs, RFC 9068 `at+jwt`) with rotating refresh tokens. Each
 * sign-in starts a refresh-token family (the session, `sid`); every refresh uses up one token and
 * issues the next in the same family; presenting a used token again means it leaked, so the whole
 * family is revoked (RFC 9700 reuse detection).
 */
@Injectable()
export class TokenService {
  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(AccountService) private readonly accounts: AccountService,
    @Inject(RefreshTokenRepository) private readonly refreshTokens: RefreshTokenRepository,
    @Inject(SigningKeyService) private readonly keys: SigningKeyService,
    @Inject(PolicyService) private readonly policy: PolicyService,
    @Inject(SecurityEventRepository) private readonly audit: SecurityEventRepository,
  ) {}

  async passwordGrant(email: string, password: string, clientAddress?: string): Promise<IssuedTokens> {
    const user = await this.accounts.authenticate(email, password, clientAddress);
    const session: Session = { userId: user.id, familyId: randomUUID(), roles: user.roles, rolesVersion: user.rolesVersion };
    return this.refreshTokens.transaction(async (tx) => {
      const tokens = await this.issue(session, tx);
      await this.audit.record({ kind: 'SIGN_IN', userId: user.id, sessionId: session.familyId, clientAddress }, tx);
      return tokens;
    });
  }

  async refreshGrant(refreshToken: string): Promise<IssuedTokens> {
    const outcome = await this.refreshTokens.transaction(async (tx): Promise<RefreshOutcome> => {
      const stored = await this.refreshTokens.findByHashForUpdate(tx, hashRefreshToken(refreshToken));
      if (!stored || stored.revokedAt || stored.expiresAt <= new Date()) return { kind: 'invalid' };
      if (stored.usedAt) {
        // The token leaked (or a client raced itself): end the session everywhere, access tokens included.
        await this.refreshTokens.revokeFamily(tx, stored.familyId);
        await this.policy.revokeSessions(tx, stored.userId, [stored.familyId]);
        await this.audit.record({ kind: 'REFRESH_TOKEN_REUSED', userId: stored.userId, sessionId: stored.familyId }, tx);
        return { kind: 'reused' };
      }
      await this.refreshTokens.markUsed(tx, stored.id);
      const session: Session = {
        userId: stored.userId,
        familyId: stored.familyId,
        roles: stored.userRoles,
        rolesVersion: stored.userRolesVersion,
      };
      return { kind: 'issued', tokens: await this.issue(session, tx) };
    });
    // Thrown after the transaction so that a family revoked for reuse stays revoked (committed).
    switch (outcome.kind) {
      case 'issued':
        return outcome.tokens;
      case 'invalid':
        throw new DomainError(ErrorCategory.Unauthenticated, 'INVALID_REFRESH_TOKEN', 'refresh token is invalid or expired');
      case 'reused':
        throw new DomainError(
          ErrorCategory.Unauthenticated,
          'REFRESH_TOKEN_REUSED',
          'refresh token was already used; the session is revoked and must sign in again',
        );
    }
  }

  private async issue(session: Session, tx?: SqlRunner): Promise<IssuedTokens> {
    // Signed before the refresh token is stored: a signing failure leaves nothing behind.
    const accessToken = await this.signAccessToken(session);
    const refreshToken = generateRefreshToken();
    await this.refreshTokens.insert(
      {
        familyId: session.familyId,
        userId: session.userId,
        tokenHash: hashRefreshToken(refreshToken),
        expiresAt: new Date(Date.now() + this.config.AUTH_REFRESH_TOKEN_TTL_SECONDS * 1000),
      },
      tx,
    );
    return {
      accessToken,
      tokenType: 'Bearer',
      expiresIn: this.config.AUTH_ACCESS_TOKEN_TTL_SECONDS,
      refreshToken,
      refreshExpiresIn: this.config.AUTH_REFRESH_TOKEN_TTL_SECONDS,
    };
  }

  private async signAccessToken(session: Session): Promise<string> {
    const { kid, privateKey } = this.keys.signingKey();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sid: session.familyId, roles: session.roles, rv: session.rolesVersion })
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, typ: 'at+jwt', kid })
      .setIssuer(this.config.AUTH_ISSUER)
      .setAudience(this.config.AUTH_AUDIENCE)
      .setSubject(session.userId)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + this.config.AUTH_ACCESS_TOKEN_TTL_SECONDS)
      .sign(privateKey);
  }
}
