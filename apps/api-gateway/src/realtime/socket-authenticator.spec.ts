import { PolicyCache, type Principal, type TokenVerifier } from '@overture/identity';
import { describe, expect, it } from 'vitest';
import { SocketAuthenticator, SocketAuthError } from './socket-authenticator.js';

const ann: Principal = { userId: 'ann', sessionId: 'sess-1', tokenId: 'j', roles: ['listener'], issuedAt: 0, rolesVersion: 1 };
// The verifier is replaced; only `exp` is read from the token itself.
const token = (exp: number) => `e30.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.sig`;
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

function setUp(listenerPermissions = ['player:read']) {
  const policy = new PolicyCache();
  policy.apply({
    version: 1,
    snapshot: { roles: [{ role: 'listener', permissions: listenerPermissions }], revokedSessions: [], usersRolesChanged: [] },
  });
  const verifier = { verify: async () => ann } as unknown as TokenVerifier;
  return { policy, authenticator: new SocketAuthenticator(verifier, policy) };
}

describe('SocketAuthenticator (real PolicyCache)', () => {
  it('refuses the handshake 403 when the roles do not grant player:read', async () => {
    const { authenticator } = setUp(['catalogue:read']);
    await expect(authenticator.authenticate(token(inAnHour()))).rejects.toMatchObject({ status: 403, reason: 'PERMISSION_DENIED' });
  });

  it('tells, for an open connection, a revoked session and changed roles (4401) from a permission taken away (4403)', async () => {
    const { policy, authenticator } = setUp();
    const identity = await authenticator.authenticate(token(inAnHour()));
    const changes: number[] = [];
    authenticator.onPolicyChange(() => changes.push(policy.version));
    expect(authenticator.refusal(identity)).toBeUndefined();

    policy.apply({ version: 2, roles: { roles: [{ role: 'listener', permissions: [] }] } });
    expect(authenticator.refusal(identity)).toEqual({ code: 4403, reason: 'PERMISSION_DENIED' });
    policy.apply({ version: 3, roles: { roles: [{ role: 'listener', permissions: ['player:read'] }] } });
    policy.apply({ version: 4, userRolesChanged: { userId: 'ann', rolesVersion: 2, expiresAtMs: Date.now() + 60_000 } });
    expect(authenticator.refusal(identity)).toEqual({ code: 4401, reason: 'ROLES_CHANGED' });
    policy.apply({ version: 5, sessionRevoked: { sessionId: 'sess-1', expiresAtMs: Date.now() + 60_000 } });
    expect(authenticator.refusal(identity)).toEqual({ code: 4401, reason: 'SESSION_REVOKED' });
    expect(changes).toEqual([2, 3, 4, 5]);
    await expect(authenticator.authenticate(token(inAnHour()))).rejects.toBeInstanceOf(SocketAuthError);
  });

  it('ends a connection when its token expires', async () => {
    const { authenticator } = setUp();
    const identity = await authenticator.authenticate(token(inAnHour()));
    expect(authenticator.refusal(identity, identity.expiresAt)).toEqual({ code: 4401, reason: 'TOKEN_EXPIRED' });
  });
});
