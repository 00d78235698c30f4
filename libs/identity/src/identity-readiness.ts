import type { INestApplicationContext } from '@nestjs/common';
import { JwksCache } from './jwks-cache.js';
import { PolicyCache } from './policy-cache.js';

/**
 * Readiness of a service that checks callers: until auth's signing keys and the access policy are
 * loaded it could only refuse calls (UNAVAILABLE), so it must not take traffic yet.
 */
export function identityReadiness(app: INestApplicationContext): () => Promise<void> {
  const keys = app.get(JwksCache);
  const policy = app.get(PolicyCache);
  return async () => {
    if (!keys.isLoaded) throw new Error("auth's signing keys have not been loaded yet");
    if (!policy.ready) throw new Error('the access policy has not been loaded yet');
  };
}

/** Every check in turn; the first failure is the answer. */
export function allOf(...checks: readonly (() => Promise<void>)[]): () => Promise<void> {
  return async () => {
    for (const check of checks) await check();
  };
}
