import { type Metadata, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, status } from '@grpc/grpc-js';
import {
  AUTH_V1,
  AuthReason,
  type authV1,
  CommonReason,
  GatewayReason,
  METADATA_V1,
  MetadataReason,
  type metadataV1,
  PLAYBACK_V1,
  PlaybackReason,
  type playbackV1,
} from '@overture/contracts';
import type {
  ErrorBody,
  QueueView,
  RecommendationsView,
  SearchView,
  TokenView,
  TracksView,
  TrackView,
  UserView,
} from '@overture/gateway-contract';
import { createTestSigner, freePort, quietLogger, TEST_AUDIENCE, TEST_ISSUER, testTlsEnv, type TestSigner } from '@overture/testing';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startGateway, type RunningGateway } from '../src/gateway.app.js';
import { gatewayConfigSchema } from '../src/gateway.config.js';
import { type FakeGrpcServer, grpcFailure, startFakeGrpcServer } from './fake-grpc-server.js';

type Unary<Req, Res> = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void;

const PASSWORD = 'correct horse battery staple';

/** An error response's schema as the document lists its reasons: the Error body, narrowed by an enum. */
interface ListedErrorSchema {
  allOf?: [unknown, { properties: { error: { properties: { reason: { enum: string[] } } } } }];
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { parameters?: { name: string }[]; responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }>
  >;
  components: { schemas: Record<string, unknown> };
}

/** Sends raw bytes and collects the whole answer, until the server closes the connection. */
async function rawExchange(baseUrl: string, request: string): Promise<string> {
  const socket = connect(Number(new URL(baseUrl).port), '127.0.0.1');
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => (received += chunk));
  socket.write(Buffer.from(request, 'latin1'));
  await Promise.race([
    once(socket, 'close'),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer; got ${received}`)), 10_000).unref()),
  ]);
  return received;
}

const bodyOf = (raw: string) => JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as ErrorBody;

const json = async <T>(response: Response): Promise<T> => (await response.json()) as T;
const errorOf = async (response: Response): Promise<ErrorBody['error']> => (await json<ErrorBody>(response)).error;

function track(n: number, popularity: number): metadataV1.Track {
  return {
    trackId: randomUUID(),
    title: `Song ${n}`,
    artistName: `Artist ${n}`,
    albumTitle: `Album ${n}`,
    durationMs: 180_000 + n,
    isrc: `USTST26000${n}`,
    releaseYear: 2020 + n,
    popularity,
    explicit: n % 2 === 0,
    attributes: { genres: ['rock'], moods: ['happy'], language: 'en', bpm: 120, energy: 0.5, valence: 0.6, danceability: 0.7, tags: [] },
  };
}

/** Stand-ins for auth and metadata: real gRPC servers of the real contracts, with canned answers. */
async function startFakeServices(signer: TestSigner, tracks: metadataV1.Track[]) {
  const seen: Metadata[] = [];
  const user: authV1.User = {
    userId: randomUUID(),
    email: 'ada@example.com',
    displayName: 'Ada',
    roles: ['listener'],
    createdAt: '2026-01-01T00:00:00Z',
  };
  const getJwks: Unary<authV1.GetJwksRequest, authV1.GetJwksResponse> = (_call, done) =>
    done(null, { keys: [{ kid: signer.kid, kty: 'OKP', crv: 'Ed25519', x: signer.publicJwk.x, alg: 'EdDSA', use: 'sig' }] });
  const issueToken: Unary<authV1.IssueTokenRequest, authV1.IssueTokenResponse> = (call, done) => {
    const grant = call.request.password;
    if (grant?.email !== user.email || grant.password !== PASSWORD) {
      done(grpcFailure(status.UNAUTHENTICATED, 'INVALID_CREDENTIALS', 'email or password is wrong'));
      return;
    }
    void signer
      .sign({ claims: { sub: user.userId } })
      .then((accessToken) =>
        done(null, { accessToken, tokenType: 'Bearer', expiresIn: 300, refreshToken: 'refresh-1', refreshExpiresIn: 86_400 }),
      );
  };
  const getUser: Unary<authV1.GetUserRequest, authV1.GetUserResponse> = (call, done) =>
    call.request.userId === user.userId ? done(null, { user }) : done(grpcFailure(status.NOT_FOUND, 'USER_NOT_FOUND', 'no such user'));
  // The policy stream: one snapshot granting listeners what these routes need, then held open.
  const watchPolicy = (call: ServerWritableStream<authV1.WatchPolicyRequest, authV1.WatchPolicyResponse>) => {
    call.write({
      version: 1,
      snapshot: {
        roles: [{ role: 'listener', permissions: ['catalogue:read', 'player:read', 'player:write', 'recommendations:read'] }],
        revokedSessions: [],
        usersRolesChanged: [],
      },
    });
  };
  const auth = await startFakeGrpcServer(AUTH_V1, 'AuthService', { getJwks, issueToken, getUser, watchPolicy });

  const byId = new Map(tracks.map((t) => [t.trackId, t]));
  const getTrack: Unary<metadataV1.GetTrackRequest, metadataV1.GetTrackResponse> = (call, done) => {
    seen.push(call.metadata);
    const found = byId.get(call.request.trackId);
    if (found) done(null, { track: found });
    else done(grpcFailure(status.NOT_FOUND, 'TRACK_NOT_FOUND', `no track with id ${call.request.trackId}`));
  };
  const batchGetTracks: Unary<metadataV1.BatchGetTracksRequest, metadataV1.BatchGetTracksResponse> = (call, done) =>
    done(null, {
      tracks: call.request.trackIds.flatMap((id) => byId.get(id) ?? []),
      missingTrackIds: call.request.trackIds.filter((id) => !byId.has(id)),
    });
  const searchTracks: Unary<metadataV1.SearchTracksRequest, metadataV1.SearchTracksResponse> = (call, done) =>
    done(null, { tracks: [...tracks].sort((a, b) => b.popularity - a.popularity).slice(0, call.request.limit), nextCursor: '' });
  const metadata = await startFakeGrpcServer(METADATA_V1, 'MetadataService', { getTrack, batchGetTracks, searchTracks });
  return { auth, metadata, user, seen };
}

async function gatewayConfig(auth: FakeGrpcServer, metadata: FakeGrpcServer, overrides: Record<string, string> = {}) {
  // Playback and recommendation get ports with nothing listening: those services are "down".
  return gatewayConfigSchema.parse({
    ...testTlsEnv('api-gateway'),
    HTTP_PORT: String(await freePort()),
    AUTH_GRPC_URL: auth.url,
    METADATA_GRPC_URL: metadata.url,
    PLAYBACK_GRPC_URL: `127.0.0.1:${await freePort()}`,
    RECOMMENDATION_GRPC_URL: `127.0.0.1:${await freePort()}`,
    AUTH_ISSUER: TEST_ISSUER,
    AUTH_AUDIENCE: TEST_AUDIENCE,
    ...overrides,
  });
}

describe('api-gateway over HTTP (real Nest + Fastify, real gRPC to stand-in services)', () => {
  const tracks = [track(1, 40), track(2, 90), track(3, 70)];
  let signer: TestSigner;
  let services: Awaited<ReturnType<typeof startFakeServices>>;
  let gateway: RunningGateway;
  let token: string;
  const logged: { level: string; line: string }[] = [];
  const logger = {
    ...quietLogger,
    error: (...args: unknown[]) =>
      void logged.push({ level: 'error', line: args.map((a) => (a instanceof Error ? a.stack : JSON.stringify(a))).join(' ') }),
    warn: (...args: unknown[]) => void logged.push({ level: 'warn', line: JSON.stringify(args) }),
    log: (...args: unknown[]) => void logged.push({ level: 'log', line: JSON.stringify(args) }),
    debug: (...args: unknown[]) => void logged.push({ level: 'debug', line: JSON.stringify(args) }),
  };

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${gateway.url}${path}`, { headers });
  const authed = (path: string, init: RequestInit = {}) =>
    fetch(`${gateway.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } });

  beforeAll(async () => {
    signer = await createTestSigner();
    services = await startFakeServices(signer, tracks);
    gateway = await startGateway(await gatewayConfig(services.auth, services.metadata, { HTTP_REQUEST_TIMEOUT_MS: '1000' }), logger);
    token = await signer.sign({ claims: { sub: services.user.userId } });
    // The signing keys load in the background; readiness reports when they are in.
    await vi.waitFor(async () => expect((await get('/health/ready')).status).toBe(200), { timeout: 10_000, interval: 50 });
  });

  afterAll(async () => {
    await gateway?.shutdown('test');
    await services?.auth.stop();
    await services?.metadata.stop();
  });

  it('answers 401 with a Bearer challenge without a token, and with a token it cannot verify', async () => {
    const missing = await get(`/v1/tracks/${tracks[0]!.trackId}`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(await errorOf(missing)).toMatchObject({ status: 401, reason: 'UNAUTHENTICATED' });

    const forged = await get(`/v1/tracks/${tracks[0]!.trackId}`, { authorization: `Bearer ${token.slice(0, -4)}AAAA` });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect((await errorOf(forged)).reason).toBe('INVALID_TOKEN');
  });

  it('answers 403 PERMISSION_DENIED when the live policy does not grant the permission of the route', async () => {
    const response = await authed('/v1/admin/policy');
    expect(response.status).toBe(403);
    expect(await errorOf(response)).toMatchObject({
      status: 403,
      reason: 'PERMISSION_DENIED',
      message: expect.stringContaining('policy:admin'),
    });
  });

  it('serves a track to a valid token, in snake_case, forwarding request id and credentials', async () => {
    const wanted = tracks[1]!;
    const response = await authed(`/v1/tracks/${wanted.trackId}`, { headers: { 'x-request-id': 'req-track-1' } });
    expect(response.status).toBe(200);
    expect(await json<TrackView>(response)).toEqual({
      id: wanted.trackId,
      title: wanted.title,
      artist_name: wanted.artistName,
      album_title: wanted.albumTitle,
      duration_ms: wanted.durationMs,
      isrc: wanted.isrc,
      release_year: wanted.releaseYear,
      popularity: wanted.popularity,
      explicit: wanted.explicit,
      attributes: wanted.attributes,
    });
    const metadata = services.seen.find((md) => md.get('x-request-id')[0] === 'req-track-1');
    expect(metadata?.get('authorization')).toEqual([`Bearer ${token}`]);
  });

  it('reads several tracks, listing the unknown ids', async () => {
    const unknown = randomUUID();
    const response = await authed(`/v1/tracks?ids=${tracks[2]!.trackId},${unknown}`);
    expect(response.status).toBe(200);
    const body = await json<TracksView>(response);
    expect(body.tracks.map((t) => t.id)).toEqual([tracks[2]!.trackId]);
    expect(body.missing_ids).toEqual([unknown]);
  });

  it('answers 400 INVALID_REQUEST naming each bad query field, and unknown parameters', async () => {
    const response = await authed('/v1/search?limit=500&min_bpm=fast&colour=blue');
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error.reason).toBe('INVALID_REQUEST');
    expect(error.message).toMatch(/limit: /);
    expect(error.message).toMatch(/min_bpm: /);
    expect(error.message).toMatch(/colour: is not an accepted query parameter/);

    const badId = await authed('/v1/tracks/not-a-uuid');
    expect(badId.status).toBe(400);
    expect((await errorOf(badId)).message).toMatch(/^id: /);
  });

  it('searches and pages like the catalogue answers', async () => {
    const response = await authed('/v1/search?q=song&limit=2');
    expect(response.status).toBe(200);
    const body = await json<SearchView>(response);
    expect(body.tracks.map((t) => t.popularity)).toEqual([90, 70]);
    expect(body.next_cursor).toBeNull();
  });

  it('answers 404 in the error shape for an unknown track, an unknown route, and 405 for a wrong method', async () => {
    const unknownTrack = await authed(`/v1/tracks/${randomUUID()}`);
    expect(unknownTrack.status).toBe(404);
    expect(await errorOf(unknownTrack)).toMatchObject({ status: 404, reason: 'TRACK_NOT_FOUND' });

    const unknownRoute = await get('/v1/no-such-thing', { 'x-request-id': 'req-404' });
    expect(unknownRoute.status).toBe(404);
    expect(unknownRoute.headers.get('content-type')).toMatch(/application\/json/);
    expect(await json<ErrorBody>(unknownRoute)).toEqual({
      error: { status: 404, reason: 'ROUTE_NOT_FOUND', message: expect.stringContaining('/v1/no-such-thing'), request_id: 'req-404' },
    });

    const wrongMethod = await fetch(`${gateway.url}/v1/auth/token`, { method: 'GET' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect((await errorOf(wrongMethod)).reason).toBe('METHOD_NOT_ALLOWED');
  });

  it('answers 503 promptly, naming the service, when the playback service is not there', async () => {
    const started = Date.now();
    const response = await authed('/v1/me/player/queue');
    const elapsed = Date.now() - started;
    expect(response.status).toBe(503);
    const error = await errorOf(response);
    expect(error.reason).toBe('SERVICE_UNAVAILABLE');
    expect(error.message).toContain('playback');
    // Well inside the 2 s deadline: a refused connection fails the call at once.
    expect(elapsed).toBeLessThan(1_500);
  });

  it('degrades recommendations to popular tracks when the recommendation service is down', async () => {
    const response = await authed('/v1/recommendations?limit=2');
    expect(response.status).toBe(200);
    expect(response.headers.get('warning')).toBe('199 - "recommendations degraded"');
    const body = await json<RecommendationsView>(response);
    expect(body.strategy).toBe('fallback_popular');
    expect(body.tracks.map((t) => t.track.id)).toEqual([tracks[1]!.trackId, tracks[2]!.trackId]);
  });

  it('echoes a valid client request id on every response and replaces an unsafe one', async () => {
    const ok = await get('/health/live', { 'x-request-id': 'client-id-42' });
    expect(ok.headers.get('x-request-id')).toBe('client-id-42');

    const unauthenticated = await get('/v1/me', { 'x-request-id': 'client-id-43' });
    expect(unauthenticated.headers.get('x-request-id')).toBe('client-id-43');
    expect((await errorOf(unauthenticated)).request_id).toBe('client-id-43');

    const unsafe = await get('/health/live', { 'x-request-id': 'has spaces "and quotes"' });
    expect(unsafe.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('signs in with an OAuth form post, then reads the account with the token', async () => {
    const form = new URLSearchParams({ grant_type: 'password', username: services.user.email, password: PASSWORD });
    const response = await fetch(`${gateway.url}/v1/auth/token`, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const tokens = await json<TokenView>(response);
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 300, refresh_token: 'refresh-1' });

    const me = await fetch(`${gateway.url}/v1/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(me.status).toBe(200);
    expect(await json<UserView>(me)).toEqual({
      id: services.user.userId,
      email: services.user.email,
      display_name: services.user.displayName,
      roles: services.user.roles,
      created_at: services.user.createdAt,
    });
  });

  it('answers 401 for wrong credentials and 400 for an unknown grant, in the error shape', async () => {
    const wrong = await fetch(`${gateway.url}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'password', email: services.user.email, password: 'nope' }),
    });
    expect(wrong.status).toBe(401);
    expect(await errorOf(wrong)).toMatchObject({ reason: 'INVALID_CREDENTIALS', message: 'email or password is wrong' });

    const grant = await fetch(`${gateway.url}/v1/auth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    });
    expect(grant.status).toBe(400);
    expect((await errorOf(grant)).message).toMatch(/grant_type: /);
  });

  it('answers malformed and oversized bodies with 400 MALFORMED_BODY and 413', async () => {
    const post = (body: string) =>
      fetch(`${gateway.url}/v1/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const malformed = await post('{"email": ');
    expect(malformed.status).toBe(400);
    expect((await errorOf(malformed)).reason).toBe('MALFORMED_BODY');

    const huge = await post(JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(70_000), display_name: 'A' }));
    expect(huge.status).toBe(413);
    expect((await errorOf(huge)).reason).toBe('PAYLOAD_TOO_LARGE');

    const unknownField = await post(JSON.stringify({ email: 'a@example.com', password: 'pw', display_name: 'A', admin: true }));
    expect(unknownField.status).toBe(400);
    expect((await errorOf(unknownField)).message).toBe('admin: is not an accepted field');

    const text = await fetch(`${gateway.url}/v1/auth/register`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
    expect(text.status).toBe(415);
    expect((await errorOf(text)).reason).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers a request the HTTP parser rejects (raw UTF-8 in the URL) in the error shape', async () => {
    const { host, port } = new URL(gateway.url);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), host.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''));
      let received = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (received += chunk));
      socket.on('end', () => resolve(received));
      socket.on('error', reject);
      socket.write(
        Buffer.concat([Buffer.from('GET /v1/search?q='), Buffer.from('夜空'), Buffer.from(` HTTP/1.1\r\nHost: ${host}\r\n\r\n`)]),
      );
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    const body = JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)) as { error: { status: number; reason: string; request_id: string } };
    expect(body.error).toMatchObject({ status: 400, reason: 'MALFORMED_REQUEST', request_id: expect.any(String) });
  });

  it('answers a request with two Authorization headers 400 in the error shape, whichever comes first', async () => {
    for (const [first, second] of [
      [token, 'not-a-token'],
      ['not-a-token', token],
    ]) {
      const raw = await rawExchange(
        gateway.url,
        `GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${first}\r\nauthorization: Bearer ${second}\r\nConnection: close\r\n\r\n`,
      );
      expect(raw).toMatch(/^HTTP\/1\.1 400 /);
      expect(bodyOf(raw).error).toMatchObject({ status: 400, reason: 'MALFORMED_REQUEST', request_id: expect.any(String) });
    }
    // One header is fine.
    const one = await rawExchange(
      gateway.url,
      `GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`,
    );
    expect(one).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('marks every answer nosniff, and answers about the account (errors too) no-store', async () => {
    const answers = {
      live: await get('/health/live'),
      track: await authed(`/v1/tracks/${tracks[0]!.trackId}`),
      unauthenticated: await get('/v1/me'),
      unknownRoute: await get('/v1/nowhere'),
      me: await authed('/v1/me'),
      queueDown: await authed('/v1/me/player/queue'),
      token: await fetch(`${gateway.url}/v1/auth/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'password', username: 'ada@example.com', password: PASSWORD }),
      }),
    };
    expect(answers.me.status).toBe(200);
    expect(answers.token.status).toBe(200);
    for (const [name, response] of Object.entries(answers)) expect(response.headers.get('x-content-type-options'), name).toBe('nosniff');
    for (const name of ['unauthenticated', 'me', 'queueDown', 'token'] as const)
      expect(answers[name].headers.get('cache-control'), name).toBe('no-store');
    for (const name of ['live', 'track'] as const) expect(answers[name].headers.get('cache-control'), name).not.toBe('no-store');
    // Answers written on the raw socket, before Fastify has a request, carry it too.
    expect(await rawExchange(gateway.url, 'GET /\u00ff HTTP/1.1\r\nHost: x\r\n\r\n')).toMatch(/\r\nx-content-type-options: nosniff\r\n/i);
  });

  it('does not take a client that hangs up while its body is read for a server error', async () => {
    const socket = connect(Number(new URL(gateway.url).port), '127.0.0.1');
    // Promises 1000 bytes, sends 10, and hangs up once the gateway has the headers and reads the body.
    const arrived = once(gateway.app.getHttpServer() as Server, 'request');
    socket.write('POST /v1/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"email":');
    await arrived;
    socket.destroy();
    await vi.waitFor(() => expect(logged.some((l) => l.level === 'debug' && l.line.includes('closed the connection before'))).toBe(true), {
      timeout: 5_000,
      interval: 10,
    });
    expect(logged.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('answers 408 in the error shape when a body does not arrive within the request timeout', async () => {
    const started = Date.now();
    const raw = await rawExchange(
      gateway.url,
      'POST /v1/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"email":',
    );
    expect(raw).toMatch(/^HTTP\/1\.1 408 /);
    expect(bodyOf(raw).error).toMatchObject({ status: 408, reason: 'REQUEST_TIMEOUT' });
    // HTTP_REQUEST_TIMEOUT_MS is 1000 here; Node checks it every second at most.
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('publishes the signing keys and an OpenAPI document listing every route', async () => {
    const jwks = await json<{ keys: unknown[] }>(await get('/.well-known/jwks.json'));
    expect(jwks.keys).toEqual([expect.objectContaining({ kid: signer.kid, kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' })]);

    const response = await get('/docs/json');
    expect(response.status).toBe(200);
    const document = await json<OpenApiDocument>(response);
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining([
        '/v1/auth/register',
        '/v1/auth/token',
        '/v1/me',
        '/.well-known/jwks.json',
        '/v1/tracks/{id}',
        '/v1/tracks',
        '/v1/search',
        '/v1/me/player/queue',
        '/v1/me/player/queue/items/{queue_item_id}',
        '/v1/me/player/next',
        '/v1/me/player/progress',
        '/v1/me/player',
        '/v1/recommendations',
        '/health/live',
        '/health/ready',
      ]),
    );
    const search = document.paths['/v1/search']?.get;
    expect(search?.parameters?.map((p) => p.name)).toEqual(expect.arrayContaining(['q', 'limit', 'min_bpm', 'cursor']));
    expect(search?.responses['400']?.content?.['application/json']?.schema).toBeDefined();
    expect(document.components.schemas.Track).toBeDefined();
    expect(document.components.schemas.Error).toBeDefined();
  });

  it("lists in the OpenAPI document the reasons each route's error responses can carry, all from the contracts", async () => {
    const document = await json<OpenApiDocument>(await get('/docs/json'));
    const reasons = (path: string, method: string, status: number): unknown => {
      const schema = document.paths[path]?.[method]?.responses[String(status)]?.content?.['application/json']?.schema as
        ListedErrorSchema | undefined;
      return schema?.allOf?.[1]?.properties.error.properties.reason.enum;
    };
    expect(reasons('/v1/me/player/queue', 'post', 409)).toEqual(expect.arrayContaining(['VERSION_MISMATCH', 'QUEUE_FULL']));
    expect(reasons('/v1/tracks/{id}', 'get', 404)).toEqual(['TRACK_NOT_FOUND']);
    // Shared reasons join a route's own: the token checks on a route that needs a token, and only there.
    expect(reasons('/v1/tracks/{id}', 'get', 401)).toEqual(expect.arrayContaining(['UNAUTHENTICATED', 'INVALID_TOKEN', 'SESSION_REVOKED']));
    expect(reasons('/v1/auth/token', 'post', 401)).toEqual(['INVALID_CREDENTIALS', 'INVALID_REFRESH_TOKEN', 'REFRESH_TOKEN_REUSED']);

    const contracts = new Set<unknown>(
      [CommonReason, GatewayReason, AuthReason, MetadataReason, PlaybackReason].flatMap((list) => Object.values(list)),
    );
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const status of Object.keys(operation.responses).filter((code) => Number(code) >= 400)) {
          const listed = reasons(path, method, Number(status));
          expect(listed, `${method} ${path} ${status}`).toEqual(expect.arrayContaining([expect.any(String)]));
          for (const reason of listed as unknown[])
            expect(contracts.has(reason), `${method} ${path} ${status}: ${String(reason)}`).toBe(true);
        }
      }
    }
  });
});

describe('api-gateway shutdown', () => {
  it('turns not-ready first, keeps serving through the delay, then closes', async () => {
    const signer = await createTestSigner();
    const services = await startFakeServices(signer, []);
    const gateway = await startGateway(await gatewayConfig(services.auth, services.metadata, { SHUTDOWN_DELAY_MS: '400' }), quietLogger);
    try {
      await vi.waitFor(async () => expect((await fetch(`${gateway.url}/health/ready`)).status).toBe(200), {
        timeout: 10_000,
        interval: 50,
      });
      const stopped = gateway.shutdown('SIGTERM');
      const ready = await fetch(`${gateway.url}/health/ready`);
      expect(ready.status).toBe(503);
      expect(await errorOf(ready)).toMatchObject({ reason: 'NOT_READY', message: expect.stringContaining('shutting down') });
      expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
      await stopped;
      await expect(fetch(`${gateway.url}/health/live`)).rejects.toThrow();
    } finally {
      await gateway.shutdown('test');
      await services.auth.stop();
      await services.metadata.stop();
    }
  });
});

/** A playback service holding one queue per user in memory, conditional on `expectedVersion` as the real one. */
async function startFakePlayback() {
  const queues = new Map<string, playbackV1.Queue>();
  const queueOf = (userId: string): playbackV1.Queue =>
    queues.get(userId) ?? { items: [], currentQueueItemId: '', version: 0, shuffle: false, repeat: 1 };
  const getQueue: Unary<playbackV1.GetQueueRequest, playbackV1.GetQueueResponse> = (call, done) =>
    done(null, { queue: queueOf(call.request.userId) });
  const addToQueue: Unary<playbackV1.AddToQueueRequest, playbackV1.AddToQueueResponse> = (call, done) => {
    const { userId, trackIds, expectedVersion } = call.request;
    const queue = queueOf(userId);
    if (expectedVersion !== undefined && expectedVersion !== queue.version) {
      done(grpcFailure(status.ABORTED, 'VERSION_MISMATCH', `the queue is at version ${queue.version}`));
      return;
    }
    const items = trackIds.map((trackId) => ({ queueItemId: randomUUID(), trackId, addedAt: '2026-01-01T00:00:00Z' }));
    const next = { ...queue, items: [...queue.items, ...items], version: queue.version + 1 };
    queues.set(userId, next);
    done(null, { queue: next, replayed: false });
  };
  const getPlaybackState: Unary<playbackV1.GetPlaybackStateRequest, playbackV1.GetPlaybackStateResponse> = (_call, done) => done(null, {});
  const server = await startFakeGrpcServer(PLAYBACK_V1, 'PlaybackService', { getQueue, addToQueue, getPlaybackState });
  return { server, queues };
}

describe('api-gateway player routes (stand-in playback service)', () => {
  const tracks = [track(4, 10), track(5, 20)];
  let signer: TestSigner;
  let services: Awaited<ReturnType<typeof startFakeServices>>;
  let playback: Awaited<ReturnType<typeof startFakePlayback>>;
  let gateway: RunningGateway;

  const as = async (userId: string) => ({ authorization: `Bearer ${await signer.sign({ claims: { sub: userId } })}` });
  const add = async (userId: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${gateway.url}/v1/me/player/queue`, {
      method: 'POST',
      headers: { ...(await as(userId)), 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    signer = await createTestSigner();
    services = await startFakeServices(signer, tracks);
    playback = await startFakePlayback();
    gateway = await startGateway(
      await gatewayConfig(services.auth, services.metadata, { PLAYBACK_GRPC_URL: playback.server.url }),
      quietLogger,
    );
    await vi.waitFor(async () => expect((await fetch(`${gateway.url}/health/ready`)).status).toBe(200), { timeout: 10_000, interval: 50 });
  });

  afterAll(async () => {
    await gateway?.shutdown('test');
    await playback?.server.stop();
    await services?.auth.stop();
    await services?.metadata.stop();
  });

  it("changes only the token's own queue, answers it with tracks resolved and its version as ETag", async () => {
    const userId = randomUUID();
    const added = await add(userId, { track_ids: [tracks[0]!.trackId, tracks[1]!.trackId] });
    expect(added.status).toBe(201);
    expect(added.headers.get('etag')).toBe('"1"');
    const queue = await json<QueueView>(added);
    expect(queue.items.map((item) => item.track?.title)).toEqual([tracks[0]!.title, tracks[1]!.title]);
    expect(queue).toMatchObject({ current_queue_item_id: null, version: 1 });
    expect(playback.queues.get(userId)?.items).toHaveLength(2);

    const read = await fetch(`${gateway.url}/v1/me/player/queue`, { headers: await as(userId) });
    expect(read.headers.get('etag')).toBe('"1"');
    expect(await json<QueueView>(read)).toEqual(queue);
  });

  it('makes a change conditional on If-Match: 409 when the queue has moved on', async () => {
    const userId = randomUUID();
    expect((await add(userId, { track_ids: [tracks[0]!.trackId] }, { 'if-match': '"0"' })).status).toBe(201);
    const stale = await add(userId, { track_ids: [tracks[1]!.trackId] }, { 'if-match': '"0"' });
    expect(stale.status).toBe(409);
    expect(stale.headers.get('etag')).toBe('"1"');
    const conflict = await json<{ error: { reason: string; message: string }; queue: QueueView }>(stale);
    expect(conflict.error).toMatchObject({ reason: 'VERSION_MISMATCH', message: 'the queue is at version 1' });
    // The current queue comes with the 409, so the client can rebase without another request.
    expect(conflict.queue).toMatchObject({ version: 1, items: [{ track: { title: tracks[0]!.title } }] });

    const malformed = await add(userId, { track_ids: [tracks[1]!.trackId] }, { 'if-match': 'W/"1"' });
    expect(malformed.status).toBe(400);
    expect((await errorOf(malformed)).message).toMatch(/^if-match: /);
  });

  it("refuses to take the user from the body: only the token's subject counts", async () => {
    const response = await add(randomUUID(), { track_ids: [tracks[0]!.trackId], user_id: randomUUID() });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).message).toBe('user_id: is not an accepted field');
  });

  it('answers 204 when nothing has been played yet', async () => {
    const response = await fetch(`${gateway.url}/v1/me/player`, { headers: await as(randomUUID()) });
    expect(response.status).toBe(204);
  });
});
