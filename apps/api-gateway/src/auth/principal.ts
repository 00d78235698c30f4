/** The caller, as a verified access token names them. */
export interface Principal {
  readonly userId: string;
  /** The sign-in session (refresh-token family) the token was issued in. */
  readonly sessionId: string;
  /** The token's own id (`jti`). */
  readonly tokenId: string;
  readonly roles: readonly string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the access-token guard on routes that require a token. */
    principal?: Principal;
  }
}
