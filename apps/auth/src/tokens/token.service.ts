import { Inject, Injectable } from '@nestjs/common';
import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { AccountService } from '../accounts/account.service.js';
import { SecurityEventRepository } from '../audit/security-event.repository.js';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config.js';
import { invalidRefreshToken, refreshTokenReused } from '../auth.errors.js';
import { SigningKeyService } from '../keys/signing-key.service.js';
import { SIGNING_ALGORITHM } from '../keys/signing-key.js';
import { SessionRepository } from '../sessions/session.repository.js';
import { SessionService } from '../sessions/session.service.js';
import { generateRefreshToken, hashRefreshToken } from './refresh-token.js';
import { RefreshTokenRepository, type NewRefreshToken } from './refresh-token.repository.js';

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
  sessionId: string;
  roles: string[];
  rolesVersion: number;
  /** The session's absolute end: no refresh token outlives it. */
  expiresAt: Date;
}

type RefreshOutcome = { kind: 'issued'; tokens: IssuedTokens } | { kind: 'invalid' } | { kind: 'reused' };

/**
 * Issues access tokens (EdDSA-signed JWTs, RFC 9068 `at+jwt`) with rotating refresh tokens. Each
 * sign-in starts a session (a refresh-token family, `sid`) that ends AUTH_SESSION_MAX_AGE_SECONDS
 * later at the latest; every refresh locks the session row, uses up one token and issues the next;
 * presenting a used token again means it leaked, so the session is ended (RFC 9700 reuse detection).
 */
@Injectable()
export class TokenService {
  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(AccountService) private readonly accounts: AccountService,
    @Inject(RefreshTokenRepository) private readonly refreshTokens: RefreshTokenRepository,
    @Inject(SessionRepository) private readonly sessionRows: SessionRepository,
    @Inject(SessionService) private readonly sessions: SessionService,
    @Inject(SigningKeyService) private readonly keys: SigningKeyService,
    @Inject(SecurityEventRepository) private readonly audit: SecurityEventRepository,
  ) {}

  async passwordGrant(email: string, password: string, clientAddress?: string): Promise<IssuedTokens> {
    const authenticated = await this.accounts.authenticate(email, password, clientAddress);
    const { user } = authenticated;
    const session: Session = {
      userId: user.id,
      sessionId: randomUUID(),
      roles: user.roles,
      rolesVersion: user.rolesVersion,
      expiresAt: new Date(Date.now() + this.config.AUTH_SESSION_MAX_AGE_SECONDS * 1000),
    };
    return this.refreshTokens.transaction(async (tx) => {
      await this.accounts.confirmPasswordUnchanged(tx, authenticated, password);
      const issued = await this.issue(session);
      await this.sessionRows.insert(tx, {
        id: session.sessionId,
        userId: user.id,
        idleExpiresAt: issued.refreshExpiresAt,
        expiresAt: session.expiresAt,
      });
      await this.refreshTokens.insert(issued.refreshRow, tx);
      await this.audit.record({ kind: 'SIGN_IN', userId: user.id, sessionId: session.sessionId, clientAddress }, tx);
      return issued.tokens;
    });
  }

  async refreshGrant(refreshToken: string): Promise<IssuedTokens> {
    const tokenHash = hashRefreshToken(refreshToken);
    const outcome = await this.refreshTokens.transaction(async (tx): Promise<RefreshOutcome> => {
      const found = await this.refreshTokens.findByHash(tx, tokenHash);
      if (!found) return { kind: 'invalid' };
      // Every refresh and every revocation of the session queue on its row from here on.
      const locked = await this.sessionRows.lock(tx, found.sessionId);
      if (!locked || locked.revokedAt || locked.expiresAt <= new Date()) return { kind: 'invalid' };
      const stored = await this.refreshTokens.findByHash(tx, tokenHash);
      if (!stored || stored.revokedAt || stored.expiresAt <= new Date()) return { kind: 'invalid' };
      if (stored.usedAt) {
        // The token leaked (or a client raced itself): end the session everywhere, access tokens included.
        await this.sessions.end(tx, locked.userId, { only: [locked.id], reason: 'refresh token reused' });
        await this.audit.record({ kind: 'REFRESH_TOKEN_REUSED', userId: locked.userId, sessionId: locked.id }, tx);
        return { kind: 'reused' };
      }
      const session: Session = {
        userId: locked.userId,
        sessionId: locked.id,
        roles: locked.userRoles,
        rolesVersion: locked.userRolesVersion,
        expiresAt: locked.expiresAt,
      };
      const issued = await this.issue(session);
      await this.refreshTokens.markUsed(tx, stored.id);
      await this.refreshTokens.insert(issued.refreshRow, tx);
      await this.sessionRows.touch(tx, locked.id, issued.refreshExpiresAt);
      return { kind: 'issued', tokens: issued.tokens };
    });
    // Thrown after the transaction so that a session ended for reuse stays ended (committed).
    switch (outcome.kind) {
      case 'issued':
        return outcome.tokens;
      case 'invalid':
        throw invalidRefreshToken();
      case 'reused':
        throw refreshTokenReused();
    }
  }

  /** Signs the access token and makes the next refresh token (stored by the caller, in its transaction). */
  private async issue(session: Session): Promise<{ tokens: IssuedTokens; refreshRow: NewRefreshToken; refreshExpiresAt: Date }> {
    const accessToken = await this.signAccessToken(session);
    const refreshToken = generateRefreshToken();
    const now = Date.now();
    const refreshExpiresAt = new Date(Math.min(now + this.config.AUTH_REFRESH_TOKEN_TTL_SECONDS * 1000, session.expiresAt.getTime()));
    return {
      tokens: {
        accessToken,
        tokenType: 'Bearer',
        expiresIn: this.config.AUTH_ACCESS_TOKEN_TTL_SECONDS,
        refreshToken,
        refreshExpiresIn: Math.max(0, Math.floor((refreshExpiresAt.getTime() - now) / 1000)),
      },
      refreshRow: {
        familyId: session.sessionId,
        userId: session.userId,
        tokenHash: hashRefreshToken(refreshToken),
        expiresAt: refreshExpiresAt,
      },
      refreshExpiresAt,
    };
  }

  private async signAccessToken(session: Session): Promise<string> {
    const { kid, privateKey } = this.keys.signingKey();
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sid: session.sessionId, roles: session.roles, rv: session.rolesVersion })
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
