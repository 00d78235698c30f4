// Identity benchmark: the per-request cost of token verification + permission check, sign-in
// throughput with the configured argon2id parameters, and policy propagation delay (change →
// enforced at the gateway and at a service). Starts the real suite on fresh databases.
//
//   npx nx run-many -t build --output-style=static
//   npx node tools/auth-bench/bench.ts            # embedded PostgreSQL in a temp folder
//   OVERTURE_DATABASE_URL=postgres://… npx node tools/auth-bench/bench.ts
//   BENCH_DURATION_S=10 BENCH_CONNECTIONS=20 BENCH_PROPAGATION_ROUNDS=40 (defaults)
import { Metadata, status } from '@grpc/grpc-js';
import { PLAYBACK_V1, playbackV1 } from '@overture/contracts';
import { startEmbeddedPostgres, type EmbeddedServer } from '@overture/database/embedded';
import { createGrpcClient, readGrpcError, transportSecurity, unary, withDeadline } from '@overture/grpc';
import { createIdentitySource, JwksCache, PolicyCache, TokenVerifier } from '@overture/identity';
import { createTestDatabase, freePort, type TestDatabase } from '@overture/testing';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { argon2, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { devTlsRoot, ROOT, SERVICES, Suite, type ServiceName, freeOpsPorts } from '../suite/suite.ts';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const ROUNDS = Number(process.env.BENCH_PROPAGATION_ROUNDS ?? 40);
const PASSWORD = 'correct horse battery staple';
const quiet = { log: () => undefined, warn: () => undefined };

interface Load {
  label: string;
  rps: number;
  p50: number;
  p97_5: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function load(label: string, options: autocannon.Options): Promise<Load> {
  const result = await autocannon({ duration: DURATION_S, connections: CONNECTIONS, ...options });
  return {
    label,
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p97_5: result.latency.p97_5,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function json<T>(url: string, init: RequestInit & { token?: string; body?: string } = {}): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(url, { ...init, headers });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function main(): Promise<void> {
  let embedded: EmbeddedServer | undefined;
  let dataDir: string | undefined;
  let serverUrl = process.env.OVERTURE_DATABASE_URL;
  if (!serverUrl) {
    dataDir = path.join(ROOT, '.data', `auth-bench-pg-${process.pid}-${Date.now()}`);
    embedded = await startEmbeddedPostgres({ dataDir, persistent: false });
    serverUrl = embedded.url;
  }
  const databases: TestDatabase[] = [];
  const databaseUrls = {} as Record<ServiceName, string>;
  for (const service of SERVICES) {
    const db = await createTestDatabase(serverUrl, `bench_${service}`);
    databases.push(db);
    databaseUrls[service] = db.url;
  }
  const suite = new Suite({
    opsPorts: await freeOpsPorts(),
    tlsRoot: await devTlsRoot(),
    databaseUrls,
    ports: {
      http: await freePort(),
      auth: await freePort(),
      metadata: await freePort(),
      'playback-queue': await freePort(),
      recommendation: await freePort(),
    },
    logLevel: 'warn',
    onOutput: () => undefined,
  });
  const closers: (() => unknown)[] = [];
  try {
    await suite.migrate();
    await suite.runCommand('metadata', ['seed-demo', '200']);
    await suite.startAll();
    const base = suite.gatewayUrl;
    const authUrl = `127.0.0.1:${suite.options.ports.auth}`;
    // The bench's own gRPC clients act as the gateway would.
    const gatewayTransport = transportSecurity(
      { GRPC_TLS_DIR: suite.envFor('api-gateway').GRPC_TLS_DIR ?? '', GRPC_TLS_RELOAD_MS: 60_000, GRPC_INSECURE_PLAINTEXT: false },
      'api-gateway',
    );

    // Accounts: an admin (made with the auth command) and a listener.
    const signUp = async (): Promise<string> => {
      const email = `bench-${randomUUID()}@example.com`;
      await json(`${base}/v1/auth/register`, {
        method: 'POST',
        body: JSON.stringify({ email, password: PASSWORD, display_name: 'Bench' }),
      });
      return email;
    };
    const signIn = async (email: string) =>
      (
        await json<{ access_token: string }>(`${base}/v1/auth/token`, {
          method: 'POST',
          body: JSON.stringify({ grant_type: 'password', username: email, password: PASSWORD }),
        })
      ).body.access_token;
    const adminEmail = await signUp();
    await suite.runCommand('auth', ['grant-role', adminEmail, 'admin']);
    const admin = await signIn(adminEmail);
    const listenerEmail = await signUp();
    const listener = await signIn(listenerEmail);
    const listenerId = (await json<{ id: string }>(`${base}/v1/me`, { token: listener })).body.id;

    // 1. Same route, same process, with and without the check: the real TokenVerifier (keys from
    //    auth's GetJwks) and PolicyCache (auth's WatchPolicy stream) in front of a trivial handler.
    const source = createIdentitySource(authUrl, gatewayTransport);
    closers.push(() => source.close());
    const jwks = new JwksCache({ fetchKeys: () => source.fetchKeys(), refreshIntervalMs: 60_000, logger: quiet });
    const policy = new PolicyCache({ watch: () => source.watch(), logger: quiet });
    jwks.start();
    policy.start();
    closers.push(
      () => jwks.stop(),
      () => policy.stop(),
    );
    const verifier = new TokenVerifier(jwks, { issuer: 'https://overture.local/auth', audience: 'overture-api' });
    while (!jwks.isLoaded || !policy.ready) await new Promise((resolve) => setTimeout(resolve, 20));
    const probe = Fastify();
    probe.get('/open/:id', async (request) => ({ id: (request.params as { id: string }).id }));
    probe.get('/guarded/:id', async (request, reply) => {
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
      if (!token) return reply.status(401).send();
      const principal = await verifier.verify(token);
      if (policy.staleness(principal) || !policy.allows(principal.roles, 'catalogue:read')) return reply.status(403).send();
      return { id: (request.params as { id: string }).id };
    });
    const probeUrl = await probe.listen({ port: 0, host: '127.0.0.1' });
    closers.push(() => probe.close());
    const track = (await json<{ tracks: { id: string }[] }>(`${base}/v1/search?limit=1`, { token: listener })).body.tracks[0].id;

    // The first check of a token (signature included), which the verifier then remembers: timed in
    // process with a new verifier, so nothing is remembered, for one token 2,000 times.
    const uncachedStart = performance.now();
    for (let i = 0; i < 2_000; i++) {
      await new TokenVerifier(jwks, { issuer: 'https://overture.local/auth', audience: 'overture-api' }).verify(listener);
    }
    const uncachedUs = ((performance.now() - uncachedStart) * 1000) / 2_000;

    const results: Load[] = [];
    results.push(await load('probe: route without check', { url: `${probeUrl}/open/${track}` }));
    results.push(
      await load('probe: same route, verify token + permission', {
        url: `${probeUrl}/guarded/${track}`,
        headers: { authorization: `Bearer ${listener}` },
      }),
    );
    // 2. Through the real gateway: an authenticated route that calls metadata, and a public route.
    results.push(
      await load('gateway: GET /v1/tracks/{id} (token, permission, gRPC)', {
        url: `${base}/v1/tracks/${track}`,
        headers: { authorization: `Bearer ${listener}` },
      }),
    );
    results.push(await load('gateway: GET /v1/tracks/{id} without token (401 at the guard)', { url: `${base}/v1/tracks/${track}` }));
    // 3. Sign-in throughput (argon2id verify per request) and the raw argon2id rate for reference.
    const signInLoad = await load('gateway: POST /v1/auth/token (password grant)', {
      url: `${base}/v1/auth/token`,
      method: 'POST',
      connections: 4,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'password', username: listenerEmail, password: PASSWORD }),
    });
    results.push(signInLoad);
    const argonStart = performance.now();
    let hashes = 0;
    while (performance.now() - argonStart < 3_000) {
      await Promise.all(
        [0, 1].map(
          () =>
            new Promise<void>((resolve, reject) =>
              argon2(
                'argon2id',
                { message: PASSWORD, nonce: Buffer.alloc(16, 7), parallelism: 1, tagLength: 32, memory: 19_456, passes: 2 },
                (e) => (e ? reject(e) : resolve()),
              ),
            ),
        ),
      );
      hashes += 2;
    }
    const argonPerSecond = hashes / ((performance.now() - argonStart) / 1000);

    // 4. Policy propagation: toggle permissions of the listener role and time how long until the
    //    gateway (GET /v1/recommendations: 403/200) and the playback-queue service (GetQueue called
    //    directly with the listener's token: PERMISSION_DENIED/OK) enforce it. Timed from just before
    //    the admin request (so it includes that request); polled in a tight loop, so the
    //    resolution is one request.
    const playback = createGrpcClient<playbackV1.PlaybackServiceClient>({
      contract: PLAYBACK_V1,
      serviceName: playbackV1.PLAYBACK_SERVICE_NAME,
      url: `127.0.0.1:${suite.options.ports['playback-queue']}`,
      transport: gatewayTransport,
    });
    closers.push(() => playback.close());
    const listenerMd = new Metadata();
    listenerMd.set('authorization', `Bearer ${listener}`);
    const serviceAllows = async (): Promise<boolean> => {
      try {
        await unary(playback.service.getQueue({ userId: listenerId }, listenerMd, withDeadline(2_000)));
        return true;
      } catch (error) {
        if (readGrpcError(error)?.code === status.PERMISSION_DENIED) return false;
        throw error;
      }
    };
    const gatewayAllows = async (): Promise<boolean> => {
      const response = await fetch(`${base}/v1/recommendations?limit=1`, { headers: { authorization: `Bearer ${listener}` } });
      await response.arrayBuffer();
      if (response.status !== 200 && response.status !== 403) throw new Error(`gateway answered ${response.status}`);
      return response.status === 200;
    };
    const until = async (check: () => Promise<boolean>, wanted: boolean, since: number): Promise<number> => {
      while (performance.now() - since < 5_000) if ((await check()) === wanted) return performance.now() - since;
      return Number.NaN;
    };
    const policyBefore = (await json<{ roles: Record<string, string[]> }>(`${base}/v1/admin/policy`, { token: admin })).body.roles.listener;
    // One change takes away a permission the gateway checks (recommendations) and one the service checks (player:read).
    const without = policyBefore.filter((p) => p !== 'player:read' && p !== 'recommendations:read');
    // Whether the service checks callers at all: an anonymous call is UNAUTHENTICATED if it does.
    const serviceEnforces = await unary(playback.service.getQueue({ userId: listenerId }, new Metadata(), withDeadline(2_000))).then(
      () => false,
      (error: unknown) => readGrpcError(error)?.code === status.UNAUTHENTICATED,
    );
    const gatewayDelays: number[] = [];
    const serviceDelays: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const allow = round % 2 === 1;
      const started = performance.now();
      const changed = await json(`${base}/v1/admin/policy/roles/listener`, {
        method: 'PUT',
        token: admin,
        body: JSON.stringify({ permissions: allow ? policyBefore : without }),
      });
      if (changed.status !== 200) throw new Error(`policy change answered ${changed.status}`);
      const [gateway, service] = await Promise.all([
        until(gatewayAllows, allow, started),
        serviceEnforces ? until(serviceAllows, allow, started) : Promise.resolve(Number.NaN),
      ]);
      gatewayDelays.push(gateway);
      serviceDelays.push(service);
    }
    await json(`${base}/v1/admin/policy/roles/listener`, {
      method: 'PUT',
      token: admin,
      body: JSON.stringify({ permissions: policyBefore }),
    });
    const summary = (delays: number[]) => {
      const ok = delays.filter((d) => !Number.isNaN(d)).sort((a, b) => a - b);
      return ok.length
        ? `p50 ${percentile(ok, 50).toFixed(1)} ms, p99 ${percentile(ok, 99).toFixed(1)} ms, max ${ok[ok.length - 1].toFixed(1)} ms (${ok.length}/${delays.length})`
        : 'not measured';
    };

    const [one, five] = loadavg();
    process.stdout.write(
      `\nauth-bench: ${DURATION_S} s per load, ${CONNECTIONS} connections (sign-in: 4), load average ${one.toFixed(2)} / ${five.toFixed(2)}\n\n`,
    );
    process.stdout.write('| load | req/s | p50 ms | p97.5 ms | p99 ms | non-2xx | errors |\n|---|---|---|---|---|---|---|\n');
    for (const r of results)
      process.stdout.write(`| ${r.label} | ${r.rps} | ${r.p50} | ${r.p97_5} | ${r.p99} | ${r.non2xx} | ${r.errors} |\n`);
    const [open, guarded] = results;
    // The probe server is one saturated event loop: the difference of the time per request is the check's cost.
    const perRequestUs = 1_000_000 / guarded.rps - 1_000_000 / open.rps;
    process.stdout.write(
      `\nverification + permission check: ${(100 * (1 - guarded.rps / open.rps)).toFixed(1)} % fewer req/s on the probe route, ≈ ${perRequestUs.toFixed(0)} µs of event-loop time per request (token remembered after its first check)\n`,
    );
    process.stdout.write(`first check of a token (EdDSA signature + claims), in process: ${uncachedUs.toFixed(0)} µs\n`);
    process.stdout.write(
      `argon2id m=19456 KiB, t=2, p=1: ${argonPerSecond.toFixed(1)} hashes/s in process (2 concurrent), sign-in ${signInLoad.rps} req/s through the gateway\n`,
    );
    process.stdout.write(
      `policy propagation (change committed → enforced), ${ROUNDS} rounds:\n  gateway: ${summary(gatewayDelays)}\n  playback-queue service: ${serviceEnforces ? summary(serviceDelays) : 'the service does not check callers yet'}\n`,
    );
  } finally {
    for (const close of closers.reverse()) await close();
    await suite.stopAll();
    for (const db of databases) await db.drop();
    await embedded?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
