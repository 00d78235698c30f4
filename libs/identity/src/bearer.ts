// RFC 6750 §2.1: the scheme, case-insensitively, then the b64token syntax.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** The token of an `Authorization: Bearer <token>` value, or `undefined` if the value is not one. */
export function bearerToken(authorization: string): string | undefined {
  return BEARER.exec(authorization)?.[1];
}
