import { Metadata, status } from '@grpc/grpc-js';
import { authV1 } from '@overture/contracts';
import { readGrpcError, unary, withDeadline } from '@overture/grpc';
import { type GrpcTestService } from '@overture/testing';
import { randomUUID } from 'node:crypto';
import type { Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAuthReplicas, type AuthReplicas } from './auth-harness.js';

type Client = authV1.AuthServiceClient;
const PASSWORD = 'correct horse battery staple';
const ALL = ['catalogue:read', 'catalogue:write', 'player:read', 'player:write', 'policy:admin', 'recommendations:read', 'users:admin'];

describe('the last admin cannot be removed (real PostgreSQL, real gRPC)', () => {
  let auth: AuthReplicas;
  let service: GrpcTestService<Client>;

  const call = <T>(fn: (c: Client, md: Metadata) => Observable<T>, token: string): Promise<T> => {
    const md = new Metadata();
    md.set('authorization', `Bearer ${token}`);
    return unary(fn(service.client, md));
  };
  const outcome = (promise: Promise<unknown>) =>
    promise.then(
      () => 'OK',
      (e: unknown) => readGrpcError(e),
    );
  const signUp = async (roles: string[]) => {
    const email = `admin-${randomUUID()}@example.com`;
    const { user } = await unary(
      service.client.register({ email, password: PASSWORD, displayName: 'Admin', clientAddress: '' }, new Metadata(), withDeadline(5000)),
    );
    await service.dataSource.query('UPDATE users SET roles = $2 WHERE id = $1', [user!.userId, roles]);
    const { accessToken } = await unary(
      service.client.issueToken({ password: { email, password: PASSWORD }, clientAddress: '' }, new Metadata(), withDeadline(5000)),
    );
    return { userId: user!.userId, token: accessToken };
  };
  const setAdminPermissions = (token: string, permissions: string[]) =>
    call((c, md) => c.setRolePermissions({ role: 'admin', permissions }, md, withDeadline(5000)), token);
  const revokeAdmin = (token: string, userId: string) =>
    call((c, md) => c.revokeRole({ userId, role: 'admin' }, md, withDeadline(5000)), token);

  beforeAll(async () => {
    auth = await startAuthReplicas('auth_admins', {}, 1);
    [service] = auth.replicas;
  });

  afterAll(() => auth?.stop());

  it('refuses a policy edit that takes policy:admin or users:admin from the only role anyone holds it through', async () => {
    const admin = await signUp(['listener', 'admin']);
    for (const without of ['policy:admin', 'users:admin']) {
      const refused = await outcome(
        setAdminPermissions(
          admin.token,
          ALL.filter((p) => p !== without),
        ),
      );
      expect(refused).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'LAST_ADMIN' });
    }
    const [{ permissions }] = await service.dataSource.query(
      "SELECT array_agg(permission ORDER BY permission) AS permissions FROM role_permissions WHERE role = 'admin'",
    );
    expect(permissions).toEqual(ALL);
    // Any other edit of the admin role goes through.
    await expect(
      setAdminPermissions(
        admin.token,
        ALL.filter((p) => p !== 'catalogue:write'),
      ),
    ).resolves.toMatchObject({ role: { role: 'admin' } });
    await setAdminPermissions(admin.token, ALL);
  });

  it('refuses to revoke the admin role from the last admin, and allows it once another admin exists', async () => {
    const first = await signUp(['listener', 'admin']);
    // Other tests' admins are demoted directly, so `first` is the only one.
    await service.dataSource.query("UPDATE users SET roles = array_remove(roles, 'admin') WHERE id <> $1", [first.userId]);
    expect(await outcome(revokeAdmin(first.token, first.userId))).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'LAST_ADMIN' });
    const second = await signUp(['listener', 'admin']);
    await expect(revokeAdmin(first.token, first.userId)).resolves.toMatchObject({ user: { roles: ['listener'] } });
    const [{ count }] = await service.dataSource.query("SELECT count(*)::int AS count FROM users WHERE 'admin' = ANY (roles)");
    expect(count).toBe(1);
    expect(await outcome(revokeAdmin(second.token, second.userId))).toMatchObject({ reason: 'LAST_ADMIN' });
  });

  it('refuses to delete the account of the last admin, and allows it once another admin exists', async () => {
    const first = await signUp(['listener', 'admin']);
    await service.dataSource.query("UPDATE users SET roles = array_remove(roles, 'admin') WHERE id <> $1", [first.userId]);
    const deleteOwn = () =>
      call(
        (c, md) => c.deleteAccount({ userId: first.userId, password: PASSWORD, clientAddress: '' }, md, withDeadline(5000)),
        first.token,
      );
    expect(await outcome(deleteOwn())).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'LAST_ADMIN' });
    const [{ count: kept }] = await service.dataSource.query('SELECT count(*)::int AS count FROM users WHERE id = $1', [first.userId]);
    expect(kept).toBe(1);
    await signUp(['listener', 'admin']);
    expect(await outcome(deleteOwn())).toBe('OK');
    const [{ count: gone }] = await service.dataSource.query('SELECT count(*)::int AS count FROM users WHERE id = $1', [first.userId]);
    expect(gone).toBe(0);
  });

  it('two admins revoking each other at once leave one admin, 10 times over', async () => {
    for (let round = 0; round < 10; round++) {
      await service.dataSource.query("UPDATE users SET roles = array_remove(roles, 'admin')");
      const x = await signUp(['listener', 'admin']);
      const y = await signUp(['listener', 'admin']);
      const outcomes = await Promise.all([outcome(revokeAdmin(x.token, y.userId)), outcome(revokeAdmin(y.token, x.userId))]);
      const [{ count }] = await service.dataSource.query("SELECT count(*)::int AS count FROM users WHERE 'admin' = ANY (roles)");
      expect(count, JSON.stringify(outcomes)).toBe(1);
      expect(outcomes.filter((o) => o === 'OK')).toHaveLength(1);
    }
  });
});
