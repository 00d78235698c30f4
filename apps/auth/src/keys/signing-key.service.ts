import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { calculateJwkThumbprint } from 'jose';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { KeyEncryption } from './key-encryption.js';
import { SigningKeyRepository } from './signing-key.repository.js';
import { SIGNING_ALGORITHM, type ActiveSigningKey, type PublicJwk, type StoredSigningKey } from './signing-key.js';

/** A published verification key, as GetJwks answers it. */
export interface Jwk extends PublicJwk {
  kid: string;
  alg: typeof SIGNING_ALGORITHM;
  use: 'sig';
}

/**
 * Owns the Ed25519 keys access tokens are signed with. At startup it makes sure an active key
 * exists (generating and storing one, encrypted, if none does) and decrypts the newest active one,
 * so a wrong AUTH_KEY_ENCRYPTION_KEY stops the process before it serves anything.
 */
@Injectable()
export class SigningKeyService implements OnModuleInit {
  private active: ActiveSigningKey | undefined;

  constructor(
    @Inject(SigningKeyRepository) private readonly keys: SigningKeyRepository,
    @Inject(KeyEncryption) private readonly encryption: KeyEncryption,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.keys.insertIfNoneActive(() => this.generate());
    const stored = await this.keys.findNewestActive();
    if (!stored) throw new Error('no active signing key after generating one; check signing_keys activates_at/retires_at');
    const pkcs8 = this.encryption.open(stored.privateKeyEncrypted, signingKeyContext(stored.kid));
    this.active = { kid: stored.kid, privateKey: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }) };
  }

  /** The key to sign with now. */
  signingKey(): ActiveSigningKey {
    if (!this.active) throw new Error('SigningKeyService used before it was initialised');
    return this.active;
  }

  async publicKeys(): Promise<Jwk[]> {
    const keys = await this.keys.findPublishable();
    return keys.map(({ kid, publicJwk }) => ({ ...publicJwk, kid, alg: SIGNING_ALGORITHM, use: 'sig' }));
  }

  private async generate(): Promise<StoredSigningKey> {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const { x } = publicKey.export({ format: 'jwk' });
    if (!x) throw new Error('Ed25519 public key exported without x');
    const publicJwk: PublicJwk = { kty: 'OKP', crv: 'Ed25519', x };
    // RFC 7638 thumbprint: a stable id derived from the key itself.
    const kid = await calculateJwkThumbprint(publicJwk);
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
    return { kid, publicJwk, privateKeyEncrypted: this.encryption.seal(pkcs8, signingKeyContext(kid)) };
  }
}

function signingKeyContext(kid: string): string {
  return `signing key ${kid}`;
}
