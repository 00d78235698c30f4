import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { KeySource } from '@overture/identity';
import { calculateJwkThumbprint, createLocalJWKSet, type JWTVerifyGetKey } from 'jose';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config.js';
import { KeyEncryption } from './key-encryption.js';
import { SigningKeyRepository } from './signing-key.repository.js';
import { SIGNING_ALGORITHM, type ActiveSigningKey, type PublicJwk, type StoredSigningKey } from './signing-key.js';

/** A published verification key, as GetJwks answers it. */
export interface Jwk extends PublicJwk {
  kid: string;
  alg: typeof SIGNING_ALGORITHM;
  use: 'sig';
}

interface LoadedKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: PublicJwk;
  activatesAt: number;
  retiresAt: number;
}

// Old keys stay published this long past the expiry of the last token they signed (clock skew).
const RETIRE_MARGIN_SECONDS = 60;
const UNKNOWN_KID_COOLDOWN_MS = 1_000;

/**
 * Owns the Ed25519 keys access tokens are signed with. At startup it makes sure a key exists
 * (generating and storing one, encrypted, if none does) and decrypts every usable key, so a wrong
 * AUTH_KEY_ENCRYPTION_KEY stops the process before it serves anything. It re-reads the keys every
 * AUTH_KEY_RELOAD_INTERVAL_MS and signs with the newest one whose activation time has come.
 *
 * Rotation (`rotate`, the `rotate-keys` command, or scheduled every AUTH_KEY_ROTATION_INTERVAL_HOURS):
 * the next key is published at once but signs only AUTH_KEY_PUBLISH_LEAD_SECONDS later, so every
 * verifier has re-read the JWKS by then; the previous key stays published until the last token it
 * signed has expired. It is also the KeySource auth's own identity guard verifies tokens with.
 */
@Injectable()
export class SigningKeyService implements OnModuleInit, OnModuleDestroy, KeySource {
  private readonly logger = new Logger(SigningKeyService.name);
  private loaded: LoadedKey[] = [];
  private localKeySet: JWTVerifyGetKey | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private lastUnknownKidReload = Number.NEGATIVE_INFINITY;

  constructor(
    @Inject(SigningKeyRepository) private readonly keys: SigningKeyRepository,
    @Inject(KeyEncryption) private readonly encryption: KeyEncryption,
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.keys.insertIfNoneActive(() => this.generate());
    await this.reload();
    if (!this.currentKey()) throw new Error('no active signing key after generating one; check signing_keys activates_at/retires_at');
    this.reloadTimer = setInterval(() => {
      this.tick().catch((error: unknown) =>
        this.logger.warn({ msg: 'could not re-read the signing keys; keeping the loaded ones', error: String(error) }),
      );
    }, this.config.AUTH_KEY_RELOAD_INTERVAL_MS);
    this.reloadTimer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.reloadTimer);
  }

  /** The key to sign with now. */
  signingKey(): ActiveSigningKey {
    const key = this.currentKey();
    if (!key) throw new Error('SigningKeyService has no active signing key (not initialised, or every key retired)');
    return { kid: key.kid, privateKey: key.privateKey };
  }

  async publicKeys(): Promise<Jwk[]> {
    const keys = await this.keys.findPublishable();
    return keys.map(({ kid, publicJwk }) => ({ ...publicJwk, kid, alg: SIGNING_ALGORITHM, use: 'sig' }));
  }

  get keySet(): JWTVerifyGetKey | undefined {
    return this.localKeySet;
  }

  async refreshForUnknownKey(): Promise<boolean> {
    // A flood of tokens with made-up kids costs at most one key read per second.
    const now = Date.now();
    if (now - this.lastUnknownKidReload < UNKNOWN_KID_COOLDOWN_MS) return false;
    this.lastUnknownKidReload = now;
    await this.reload();
    return true;
  }

  /** Schedules the next key now (see the class comment); returns its kid. */
  async rotate(): Promise<string> {
    const kid = await this.keys.rotate(() => this.generate(), this.rotationTimes());
    if (!kid) throw new Error('rotation made no key');
    await this.reload();
    return kid;
  }

  private async tick(): Promise<void> {
    const hours = this.config.AUTH_KEY_ROTATION_INTERVAL_HOURS;
    if (hours > 0) {
      const kid = await this.keys.rotate(() => this.generate(), { ...this.rotationTimes(), onlyIfOlderThanSeconds: hours * 3600 });
      if (kid) this.logger.log(`scheduled key rotation: ${kid} signs in ${this.config.AUTH_KEY_PUBLISH_LEAD_SECONDS} s`);
    }
    await this.reload();
  }

  private rotationTimes(): { leadSeconds: number; retireAfterSeconds: number } {
    return {
      leadSeconds: this.config.AUTH_KEY_PUBLISH_LEAD_SECONDS,
      retireAfterSeconds: this.config.AUTH_ACCESS_TOKEN_TTL_SECONDS + RETIRE_MARGIN_SECONDS,
    };
  }

  private currentKey(now = Date.now()): LoadedKey | undefined {
    return this.loaded.find((key) => key.activatesAt <= now && key.retiresAt > now);
  }

  private async reload(): Promise<void> {
    const stored = await this.keys.findUsable();
    const known = new Map(this.loaded.map((key) => [key.kid, key]));
    this.loaded = stored.map((key) => {
      const privateKey =
        known.get(key.kid)?.privateKey ??
        createPrivateKey({ key: this.encryption.open(key.privateKeyEncrypted, signingKeyContext(key.kid)), format: 'der', type: 'pkcs8' });
      return {
        kid: key.kid,
        privateKey,
        publicJwk: key.publicJwk,
        activatesAt: key.activatesAt.getTime(),
        retiresAt: key.retiresAt?.getTime() ?? Number.POSITIVE_INFINITY,
      };
    });
    this.localKeySet = createLocalJWKSet({
      keys: this.loaded.map((key) => ({ ...key.publicJwk, kid: key.kid, alg: SIGNING_ALGORITHM, use: 'sig' })),
    });
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
