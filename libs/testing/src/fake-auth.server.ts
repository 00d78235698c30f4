import { loadPackageDefinition, type GrpcObject, Server, type ServerWritableStream, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { AUTH_V1, type authV1, PROTO_LOADER_OPTIONS, PROTO_ROOT } from '@overture/contracts';
import { testTransport } from './test-transport.js';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import path from 'node:path';

export const FAKE_AUTH_ISSUER = 'https://overture.local/auth';
export const FAKE_AUTH_AUDIENCE = 'overture-api';

/** What every listener may do under the seeded policy. */
export const LISTENER_PERMISSIONS = ['catalogue:read', 'player:read', 'player:write', 'recommendations:read'];

export interface FakeAuthServer {
  /** host:port for AUTH_GRPC_URL. */
  readonly url: string;
  /** An access token as auth issues one (EdDSA, at+jwt); `claims` override or add (`undefined` removes). */
  sign(claims?: Record<string, unknown>): Promise<string>;
  /** Sends a policy event to every open WatchPolicy stream (and keeps it for later subscribers' snapshots). */
  publish(change: Omit<authV1.WatchPolicyResponse, 'version'>): void;
  stop(): Promise<void>;
}

/**
 * A stand-in for the auth service in a service's medium tests: a real gRPC server of the real
 * contract, on mutual TLS with auth's test certificate, answering GetJwks with a test key and WatchPolicy with a snapshot (listener role with
 * LISTENER_PERMISSIONS unless `roles` is given) followed by whatever the test publishes.
 */
export async function startFakeAuthServer(roles: Record<string, string[]> = { listener: LISTENER_PERMISSIONS }): Promise<FakeAuthServer> {
  const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const kid = `fake-${randomUUID()}`;
  const jwk = await exportJWK(publicKey);
  let version = 1;
  let roleMap: authV1.RolePermissions[] = Object.entries(roles).map(([role, permissions]) => ({ role, permissions }));
  const revoked: authV1.RevokedSession[] = [];
  const changed: authV1.UserRolesChanged[] = [];
  const streams = new Set<ServerWritableStream<authV1.WatchPolicyRequest, authV1.WatchPolicyResponse>>();

  const definition = loadPackageDefinition(loadSync(path.join(PROTO_ROOT, AUTH_V1.file), PROTO_LOADER_OPTIONS));
  const server = new Server();
  server.addService(lookup(definition, `${AUTH_V1.package}.AuthService`).service, {
    getJwks: (_call: unknown, done: (error: null, response: authV1.GetJwksResponse) => void) =>
      done(null, { keys: [{ kid, kty: 'OKP', crv: 'Ed25519', x: jwk.x ?? '', alg: 'EdDSA', use: 'sig' }] }),
    watchPolicy: (call: ServerWritableStream<authV1.WatchPolicyRequest, authV1.WatchPolicyResponse>) => {
      streams.add(call);
      call.on('cancelled', () => streams.delete(call));
      call.write({ version, snapshot: { roles: roleMap, revokedSessions: revoked, usersRolesChanged: changed } });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', testTransport('auth').serverCredentials(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    url: `127.0.0.1:${port}`,
    sign: (claims = {}) => {
      const defaults: JWTPayload = { sub: randomUUID(), sid: randomUUID(), jti: randomUUID(), roles: ['listener'], rv: 0 };
      const payload = Object.fromEntries(Object.entries({ ...defaults, ...claims }).filter(([, value]) => value !== undefined));
      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid })
        .setIssuer(FAKE_AUTH_ISSUER)
        .setAudience(FAKE_AUTH_AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
    },
    publish: (change) => {
      version += 1;
      if (change.roles) roleMap = change.roles.roles;
      if (change.sessionRevoked) revoked.push(change.sessionRevoked);
      if (change.userRolesChanged) changed.push(change.userRolesChanged);
      for (const stream of streams) stream.write({ version, ...change });
    },
    stop: () => {
      for (const stream of streams) stream.end();
      return new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

function lookup(root: GrpcObject, name: string): ServiceClientConstructor {
  let node: unknown = root;
  for (const part of name.split('.')) node = (node as Record<string, unknown>)[part];
  if (typeof node !== 'function' || !('service' in node)) throw new Error(`no service ${name} in the contract`);
  return node as ServiceClientConstructor;
}
