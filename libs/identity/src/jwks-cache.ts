import type { LoggerService } from '@nestjs/common';
import type { authV1 } from '@overture/contracts';
import { Backoff } from '@overture/resilience';
import { createLocalJWKSet, type JSONWebKeySet, type JWK, type JWTVerifyGetKey } from 'jose';
import type { KeySource } from './token-verifier.js';

// jose's own rule for remote key sets: a token with an unknown kid triggers at most one re-read per
// 30 s, so a flood of forged kids cannot turn into a flood of calls to auth.
const UNKNOWN_KID_COOLDOWN_MS = 30_000;

export interface JwksCacheOptions {
  /** Reads auth's published keys (GetJwks). */
  fetchKeys: () => Promise<authV1.Jwk[]>;
  refreshIntervalMs: number;
  logger: Pick<LoggerService, 'log' | 'warn'>;
}

/**
 * Auth's public signing keys, held in memory so that tokens are verified without a call per
 * request. `start` loads them (retrying until auth answers), re-reads them every
 * `refreshIntervalMs`, and on demand when a token names a key not seen yet (at most every 30 s).
 */
export class JwksCache implements KeySource {
  private current: { jwks: JSONWebKeySet; keySet: JWTVerifyGetKey } | undefined;
  private loading: Promise<void> | undefined;
  private lastUnknownKidRefresh = Number.NEGATIVE_INFINITY;
  private refreshTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  // Until the first load succeeds nothing can be verified, so retries stay frequent (auth may start later).
  private readonly firstLoadRetry = new Backoff({ initialMs: 100, maxMs: 1_000 });

  constructor(private readonly options: JwksCacheOptions) {}

  get isLoaded(): boolean {
    return this.current !== undefined;
  }

  get keySet(): JWTVerifyGetKey | undefined {
    return this.current?.keySet;
  }

  /** The keys as last read from auth, to republish at /.well-known/jwks.json. */
  get jwks(): JSONWebKeySet | undefined {
    return this.current?.jwks;
  }

  start(): void {
    this.loadUntilAvailable();
    this.refreshTimer = setInterval(() => {
      this.refresh().catch((error: unknown) =>
        this.options.logger.warn({ msg: 'could not refresh the signing keys; keeping the last ones', error: String(error) }),
      );
    }, this.options.refreshIntervalMs);
    this.refreshTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.refreshTimer);
    clearTimeout(this.retryTimer);
  }

  async refreshForUnknownKey(): Promise<boolean> {
    const now = Date.now();
    if (now - this.lastUnknownKidRefresh < UNKNOWN_KID_COOLDOWN_MS) return false;
    this.lastUnknownKidRefresh = now;
    try {
      await this.refresh();
      return true;
    } catch (error) {
      this.options.logger.warn({ msg: 'could not refresh the signing keys for an unknown kid', error: String(error) });
      return false;
    }
  }

  /** Reads the keys from auth now; concurrent callers share one call. */
  refresh(): Promise<void> {
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    const jwks: JSONWebKeySet = { keys: (await this.options.fetchKeys()).map(toJwk) };
    this.current = { jwks, keySet: createLocalJWKSet(jwks) };
  }

  private loadUntilAvailable(): void {
    this.refresh().then(
      () => this.options.logger.log(`signing keys loaded (${this.jwks?.keys.length ?? 0})`),
      (error: unknown) => {
        if (this.stopped || this.isLoaded) return;
        const delayMs = this.firstLoadRetry.next();
        this.options.logger.warn({ msg: `signing keys not available yet; retrying in ${delayMs} ms`, error: String(error) });
        this.retryTimer = setTimeout(() => this.loadUntilAvailable(), delayMs);
        this.retryTimer.unref();
      },
    );
  }
}

// proto3 has no absent strings: empty fields are dropped so that jose does not read `alg: ""` as a
// constraint the token cannot meet.
export function toJwk(key: authV1.Jwk): JWK {
  const jwk: JWK = { kty: key.kty };
  if (key.kid) jwk.kid = key.kid;
  if (key.crv) jwk.crv = key.crv;
  if (key.x) jwk.x = key.x;
  if (key.alg) jwk.alg = key.alg;
  if (key.use) jwk.use = key.use;
  return jwk;
}
