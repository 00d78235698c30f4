import { Metadata, status } from '@grpc/grpc-js';
import { Controller } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GrpcMethod } from '@nestjs/microservices';
import { DomainError, grpcStatusOf, spiffeIdOf, type AuthenticatedCall, type ServiceIdentity } from '@overture/grpc';
import { createLocalJWKSet } from 'jose';
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestSigner, TEST_AUDIENCE, TEST_ISSUER, type TestSigner } from '@overture/testing';
import { GrpcIdentityGuard, principalOf } from './grpc-identity.guard.js';
import { ActsOnAnyUser, AllowAnonymous, Callers, RequirePermission } from './permissions.js';
import { PolicyCache } from './policy-cache.js';
import { TokenVerifier } from './token-verifier.js';

@Callers('api-gateway')
@Controller()
class ProbeController {
  @GrpcMethod('Probe', 'Open')
  @AllowAnonymous()
  open(): string {
    return 'open';
  }

  @GrpcMethod('Probe', 'Record')
  @Callers('playback-queue')
  @AllowAnonymous()
  record(): string {
    return 'recorded';
  }

  @GrpcMethod('Probe', 'Read')
  @RequirePermission('player:read')
  read(_request: { userId?: string }, metadata: Metadata): string {
    return principalOf(metadata).userId;
  }

  @GrpcMethod('Probe', 'Admin')
  @RequirePermission('users:admin')
  @ActsOnAnyUser()
  admin(): string {
    return 'admin';
  }
}

describe('GrpcIdentityGuard', () => {
  let signer: TestSigner;
  let guard: GrpcIdentityGuard;
  const policy = new PolicyCache();
  const user = randomUUID();

  beforeAll(async () => {
    signer = await createTestSigner();
    const verifier = new TokenVerifier(
      { keySet: createLocalJWKSet({ keys: [signer.publicJwk] }), refreshForUnknownKey: async () => false },
      { issuer: TEST_ISSUER, audience: TEST_AUDIENCE },
    );
    guard = new GrpcIdentityGuard(new Reflector(), verifier, policy);
    policy.apply({
      version: 1,
      snapshot: { roles: [{ role: 'listener', permissions: ['player:read'] }], revokedSessions: [], usersRolesChanged: [] },
    });
  });

  // Runs the guard as Nest would for a gRPC call of `method`, then the handler if it let the call through.
  // A call on a mutual-TLS connection from `caller` (a certificate naming `san`, when given).
  const mtlsCall = (
    caller: ServiceIdentity | undefined,
    san = caller ? `URI:${spiffeIdOf(caller)}` : 'DNS:localhost',
  ): AuthenticatedCall => ({
    getAuthContext: () => ({ transportSecurityType: 'ssl', sslPeerCertificate: { subjectaltname: san } as never }),
  });
  const plaintextCall: AuthenticatedCall = { getAuthContext: () => ({}) };

  const invoke = async (
    method: keyof ProbeController,
    request: object,
    token?: string,
    call = mtlsCall('api-gateway'),
  ): Promise<unknown> => {
    const metadata = new Metadata();
    if (token) metadata.set('authorization', `Bearer ${token}`);
    const handler = ProbeController.prototype[method];
    const context = {
      getType: () => 'rpc',
      getHandler: () => handler,
      getClass: () => ProbeController,
      switchToRpc: () => ({ getData: () => request, getContext: () => metadata }),
      getArgByIndex: (index: number) => [request, metadata, call][index],
    };
    await guard.canActivate(context as never);
    return (handler as (r: object, m: Metadata) => unknown).call(new ProbeController(), request, metadata);
  };
  const refusal = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(error)}`);
    return { code: grpcStatusOf(error.category), reason: error.reason };
  };

  it('lets anonymous methods through without a token', async () => {
    await expect(invoke('open', {})).resolves.toBe('open');
  });

  it('lets through only the workloads a method names, as their certificates prove', async () => {
    await expect(invoke('record', {}, undefined, mtlsCall('playback-queue'))).resolves.toBe('recorded');
    expect(await refusal(invoke('record', {}, undefined, mtlsCall('api-gateway')))).toEqual({
      code: status.PERMISSION_DENIED,
      reason: 'CALLER_NOT_ALLOWED',
    });
    // The class's @Callers applies to methods that name none themselves.
    expect(await refusal(invoke('open', {}, undefined, mtlsCall('recommendation')))).toEqual({
      code: status.PERMISSION_DENIED,
      reason: 'CALLER_NOT_ALLOWED',
    });
  });

  it('refuses a certificate that names no Overture service, or more than one', async () => {
    expect(await refusal(invoke('open', {}, undefined, mtlsCall(undefined)))).toEqual({
      code: status.UNAUTHENTICATED,
      reason: 'UNKNOWN_CALLER',
    });
    const two = `URI:${spiffeIdOf('api-gateway')}, URI:${spiffeIdOf('auth')}`;
    expect(await refusal(invoke('open', {}, undefined, mtlsCall('api-gateway', two)))).toEqual({
      code: status.UNAUTHENTICATED,
      reason: 'UNKNOWN_CALLER',
    });
    expect(await refusal(invoke('open', {}, undefined, mtlsCall('api-gateway', 'URI:spiffe://elsewhere/api-gateway')))).toMatchObject({
      reason: 'UNKNOWN_CALLER',
    });
  });

  it('checks no workload on a plaintext connection (a server started with GRPC_INSECURE_PLAINTEXT)', async () => {
    await expect(invoke('record', {}, undefined, plaintextCall)).resolves.toBe('recorded');
  });

  it('takes the caller from the token and checks the permission against the live policy', async () => {
    const token = await signer.sign({ claims: { sub: user } });
    await expect(invoke('read', { userId: user }, token)).resolves.toBe(user);
    expect(await refusal(invoke('admin', {}, token))).toEqual({ code: status.PERMISSION_DENIED, reason: 'PERMISSION_DENIED' });
  });

  it('refuses a missing, malformed or forged token as UNAUTHENTICATED', async () => {
    expect(await refusal(invoke('read', {}))).toMatchObject({ code: status.UNAUTHENTICATED });
    expect(await refusal(invoke('read', {}, 'not a jwt'))).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'INVALID_TOKEN' });
    const other = await createTestSigner(signer.kid);
    expect(await refusal(invoke('read', {}, await other.sign({ claims: { sub: user } })))).toMatchObject({ reason: 'INVALID_TOKEN' });
  });

  it("refuses a request naming another user than the token's subject", async () => {
    const token = await signer.sign({ claims: { sub: user } });
    expect(await refusal(invoke('read', { userId: randomUUID() }, token))).toEqual({
      code: status.PERMISSION_DENIED,
      reason: 'USER_MISMATCH',
    });
  });

  it('refuses the token of a revoked session as soon as the policy says so', async () => {
    const sid = randomUUID();
    const token = await signer.sign({ claims: { sub: user, sid } });
    await expect(invoke('read', { userId: user }, token)).resolves.toBe(user);
    policy.apply({ version: 2, sessionRevoked: { sessionId: sid, expiresAtMs: Date.now() + 60_000 } });
    expect(await refusal(invoke('read', { userId: user }, token))).toEqual({ code: status.UNAUTHENTICATED, reason: 'SESSION_REVOKED' });
  });

  it('applies a permission change without a restart', async () => {
    const token = await signer.sign({ claims: { sub: user } });
    policy.apply({ version: 3, roles: { roles: [{ role: 'listener', permissions: ['player:read', 'users:admin'] }] } });
    await expect(invoke('admin', { userId: randomUUID() }, token)).resolves.toBe('admin');
    policy.apply({ version: 4, roles: { roles: [{ role: 'listener', permissions: [] }] } });
    expect(await refusal(invoke('read', { userId: user }, token))).toMatchObject({ code: status.PERMISSION_DENIED });
  });
});
