/** The caller, as a verified access token names them. */
export interface Principal {
  readonly userId: string;
  /** The sign-in session (refresh-token family) the token was issued in. */
  readonly sessionId: string;
  /** The token's own id (`jti`). */
  readonly tokenId: string;
  readonly roles: readonly string[];
  /** When the token was issued, epoch seconds. */
  readonly issuedAt: number;
  /** The user's roles version when the token was issued (claim `rv`); older than the policy's means stale roles. */
  readonly rolesVersion: number;
}
