import type { KeyObject } from 'node:crypto';

/** The public half of an Ed25519 signing key, as published in the JWKS (RFC 8037). */
export interface PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
}

export interface StoredSigningKey {
  kid: string;
  publicJwk: PublicJwk;
  privateKeyEncrypted: Buffer;
}

/** The key access tokens are signed with now. */
export interface ActiveSigningKey {
  kid: string;
  privateKey: KeyObject;
}

export const SIGNING_ALGORITHM = 'EdDSA';
