import type { authV1 } from '@overture/contracts';
import { Subject } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PolicyCache } from './policy-cache.js';
import type { Principal } from './principal.js';

const quiet = { log: () => undefined, warn: () => undefined };
const snapshot = (version: number, roles: Record<string, string[]>, revoked: string[] = []): authV1.WatchPolicyResponse => ({
  version,
  snapshot: {
    roles: Object.entries(roles).map(([role, permissions]) => ({ role, permissions })),
    revokedSessions: revoked.map((sessionId) => ({ sessionId, expiresAtMs: Date.now() + 60_000 })),
    usersRolesChanged: [],
  },
});
const principal = (overrides: Partial<Principal> = {}): Principal => ({
  userId: 'u1',
  sessionId: 's1',
  tokenId: 't1',
  roles: ['listener'],
  issuedAt: Math.floor(Date.now() / 1000),
  rolesVersion: 0,
  ...overrides,
});

describe('PolicyCache', () => {
  const caches: PolicyCache[] = [];
  afterEach(() => caches.splice(0).forEach((c) => c.stop()));

  it('is not ready before a snapshot, and answers from the snapshot and every later change', () => {
    const cache = new PolicyCache();
    expect(cache.ready).toBe(false);
    cache.apply(snapshot(3, { listener: ['catalogue:read'], curator: ['catalogue:read', 'catalogue:write'] }));
    expect(cache.ready).toBe(true);
    expect(cache.allows(['listener'], 'catalogue:write')).toBe(false);
    expect(cache.allows(['listener', 'curator'], 'catalogue:write')).toBe(true);
    cache.apply({ version: 4, roles: { roles: [{ role: 'listener', permissions: ['catalogue:read', 'catalogue:write'] }] } });
    expect(cache.allows(['listener'], 'catalogue:write')).toBe(true);
    // The role map is replaced whole: curator is gone from it.
    expect(cache.allows(['curator'], 'catalogue:write')).toBe(false);
    expect(cache.version).toBe(4);
  });

  it('refuses a revoked session until its tokens would have expired anyway', () => {
    const cache = new PolicyCache();
    cache.apply(snapshot(1, {}, ['s-old']));
    expect(cache.staleness(principal({ sessionId: 's-old' }))).toBe('SESSION_REVOKED');
    cache.apply({ version: 2, sessionRevoked: { sessionId: 's1', expiresAtMs: Date.now() + 1_000 } });
    expect(cache.staleness(principal())).toBe('SESSION_REVOKED');
    expect(cache.staleness(principal(), Date.now() + 2_000)).toBeUndefined();
    cache.prune(Date.now() + 2_000);
    expect(cache.staleness(principal())).toBeUndefined();
    expect(cache.staleness(principal({ sessionId: 'other' }))).toBeUndefined();
  });

  it("refuses tokens with an older roles version than their user's, not newer ones", () => {
    const cache = new PolicyCache();
    cache.apply(snapshot(1, {}));
    cache.apply({ version: 2, userRolesChanged: { userId: 'u1', rolesVersion: 3, expiresAtMs: Date.now() + 60_000 } });
    expect(cache.staleness(principal({ rolesVersion: 2 }))).toBe('ROLES_CHANGED');
    expect(cache.staleness(principal({ rolesVersion: 3 }))).toBeUndefined();
    expect(cache.staleness(principal({ userId: 'u2', rolesVersion: 0 }))).toBeUndefined();
  });

  it('reconnects after the stream fails and replaces its state with the new snapshot (catching up)', async () => {
    const streams: Subject<authV1.WatchPolicyResponse>[] = [];
    const cache = new PolicyCache({
      watch: () => {
        const stream = new Subject<authV1.WatchPolicyResponse>();
        streams.push(stream);
        return stream;
      },
      logger: quiet,
    });
    caches.push(cache);
    cache.start();
    streams[0]!.next(snapshot(1, { listener: ['player:read'] }, ['s1']));
    expect(cache.staleness(principal())).toBe('SESSION_REVOKED');
    streams[0]!.error(new Error('auth went away'));
    // Meanwhile the last known policy still applies.
    expect(cache.allows(['listener'], 'player:read')).toBe(true);
    await vi.waitFor(() => expect(streams).toHaveLength(2), { timeout: 2_000, interval: 10 });
    streams[1]!.next(snapshot(7, { listener: [] }));
    expect(cache.version).toBe(7);
    expect(cache.allows(['listener'], 'player:read')).toBe(false);
    expect(cache.staleness(principal())).toBeUndefined();
  });

  it('does not trust a stream that starts without a snapshot', async () => {
    const streams: Subject<authV1.WatchPolicyResponse>[] = [];
    const cache = new PolicyCache({
      watch: () => {
        const stream = new Subject<authV1.WatchPolicyResponse>();
        streams.push(stream);
        return stream;
      },
      logger: quiet,
    });
    caches.push(cache);
    cache.start();
    streams[0]!.next({ version: 5, roles: { roles: [{ role: 'listener', permissions: ['users:admin'] }] } });
    expect(cache.ready).toBe(false);
    expect(cache.allows(['listener'], 'users:admin')).toBe(false);
    await vi.waitFor(() => expect(streams).toHaveLength(2), { timeout: 2_000, interval: 10 });
  });
});
