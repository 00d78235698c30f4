import type { ServiceIdentity } from '@overture/grpc';
import { freePort, startEmbeddedPostgres, testTransport } from '@overture/testing';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { ROOT, Suite, databaseUrlsOn, freeOpsPorts } from '../../../tools/suite/suite.ts';
import { healthStatus, healthStatus as probeHealth, reflectedServices, type ProbeSecurity } from './grpc-probe.js';
import { startSuite, type RunningSuite } from './suite-fixture.js';

const SERVICE_NAMES = {
  auth: 'overture.auth.v1.AuthService',
  metadata: 'overture.metadata.v1.MetadataService',
  'playback-queue': 'overture.playback.v1.PlaybackService',
  recommendation: 'overture.recommendation.v1.RecommendationService',
} as const;

/** An operator's tool on a main port: mutual TLS with a certificate of the suite's CA. */
function operatorTo(server: ServiceIdentity): ProbeSecurity {
  const transport = testTransport('api-gateway');
  return { credentials: transport.channelCredentials(server), options: transport.channelOptions(server) };
}

describe('operating the suite: health, reflection, shutdown', () => {
  let running: RunningSuite;
  const healthPort = { metadata: 0 };

  beforeAll(async () => {
    healthPort.metadata = await freePort();
    running = await startSuite(inject('postgresServerUrl'), {
      demoTracks: 200,
      extraEnv: {
        metadata: { SHUTDOWN_DELAY_MS: '1500', GRPC_REFLECTION: 'true', GRPC_HEALTH_LISTEN: `127.0.0.1:${healthPort.metadata}` },
      },
    });
  });
  afterAll(() => running?.stop());

  it('every service answers grpc.health.v1 with SERVING on its mutual-TLS port', async () => {
    for (const [app, name] of Object.entries(SERVICE_NAMES)) {
      const address = `127.0.0.1:${running.suite.options.ports[app as keyof typeof SERVICE_NAMES]}`;
      const security = operatorTo(app as keyof typeof SERVICE_NAMES);
      // Readiness is re-checked every 2 s: a service turns ready a moment after auth's keys and policy arrive.
      await vi.waitFor(async () => expect(await healthStatus(address, '', security), app).toBe('SERVING'), {
        timeout: 5_000,
        interval: 100,
      });
      expect(await healthStatus(address, name, security), app).toBe('SERVING');
      expect(await healthStatus(address, 'liveness', security), app).toBe('SERVING');
    }
  });

  it('reflection lists the services only where it is turned on', async () => {
    const metadata = `127.0.0.1:${running.suite.options.ports.metadata}`;
    expect(await reflectedServices(metadata, operatorTo('metadata'))).toEqual(
      expect.arrayContaining([SERVICE_NAMES.metadata, 'grpc.health.v1.Health']),
    );
    const auth = `127.0.0.1:${running.suite.options.ports.auth}`;
    await expect(reflectedServices(auth, operatorTo('auth'))).rejects.toMatchObject({ code: 12 /* UNIMPLEMENTED */ });
  });

  it('the plaintext health port answers probes that have no certificate, and serves nothing else', async () => {
    const address = `127.0.0.1:${healthPort.metadata}`;
    await vi.waitFor(async () => expect(await healthStatus(address)).toBe('SERVING'), { timeout: 5_000, interval: 100 });
    expect(await healthStatus(address, 'liveness')).toBe('SERVING');
    await expect(reflectedServices(address)).rejects.toMatchObject({ code: 12 /* UNIMPLEMENTED */ });
    // The main port refuses a plaintext connection outright.
    expect(await healthStatus(`127.0.0.1:${running.suite.options.ports.metadata}`)).toBe('ERROR:UNAVAILABLE');
  });

  it('the gateway serves OpenAPI and readiness', async () => {
    const docs = (await (await fetch(`${running.baseUrl}/docs/json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(docs.paths)).toEqual(
      expect.arrayContaining(['/v1/search', '/v1/me/player/queue', '/v1/recommendations', '/v1/auth/token']),
    );
    expect((await fetch(`${running.baseUrl}/health/ready`)).status).toBe(200);
  });

  it('on SIGTERM a service reports NOT_SERVING first, then exits cleanly', async () => {
    const address = `127.0.0.1:${healthPort.metadata}`;
    const child = running.suite.processes.get('metadata')!;
    const exited = once(child, 'exit') as Promise<[number | null]>;
    child.kill('SIGTERM');
    await vi.waitFor(async () => expect(await healthStatus(address)).toBe('NOT_SERVING'), { timeout: 1_400, interval: 50 });
    const [code] = await exited;
    expect(code).toBe(0);
  });
});

describe('readiness means able to serve', () => {
  it("reports NOT_SERVING until auth's keys and policy are loaded, while its PostgreSQL is down, and SERVING again when it is back", async () => {
    const dataDir = path.join(ROOT, '.data', `e2e-pg-${process.pid}-${Date.now()}`);
    const port = await freePort();
    let pg = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'pg'), port });
    const suite = new Suite({
      opsPorts: await freeOpsPorts(),
      tlsRoot: inject('grpcTlsRoot'),
      databaseUrls: databaseUrlsOn(pg.url),
      ports: {
        http: await freePort(),
        auth: await freePort(),
        metadata: await freePort(),
        'playback-queue': await freePort(),
        recommendation: await freePort(),
      },
      logLevel: 'error',
      onOutput: () => undefined,
    });
    const address = `127.0.0.1:${suite.options.ports.metadata}`;
    const security = operatorTo('metadata');
    const healthStatus = (target: string, service = '') => probeHealth(target, service, security);
    try {
      await suite.runCommand('auth', ['migrate']);
      await suite.runCommand('metadata', ['migrate']);
      // Serving calls needs auth's keys and policy: without auth, metadata listens but is not ready.
      suite.start('metadata');
      await vi.waitFor(async () => expect(await healthStatus(address)).toBe('NOT_SERVING'), { timeout: 20_000, interval: 100 });
      suite.start('auth');
      await vi.waitFor(async () => expect(await healthStatus(address)).toBe('SERVING'), { timeout: 20_000, interval: 100 });
      await pg.stop();
      await vi.waitFor(async () => expect(await healthStatus(address)).toBe('NOT_SERVING'), { timeout: 10_000, interval: 100 });
      expect(await healthStatus(address, 'liveness')).toBe('SERVING');
      pg = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'pg'), port });
      await vi.waitFor(async () => expect(await healthStatus(address)).toBe('SERVING'), { timeout: 15_000, interval: 100 });
    } finally {
      await suite.stopAll();
      await pg.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('configuration', () => {
  it('a service with bad variables refuses to start and names each one', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'apps/auth/dist/main.js')], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: 'mysql://nope',
        AUTH_KEY_ENCRYPTION_KEY: 'too-short',
        GRPC_LISTEN: '127.0.0.1:1',
        GRPC_TLS_DIR: '/tmp',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(78);
    expect(stderr).toMatch(/DATABASE_URL/);
    expect(stderr).toMatch(/AUTH_KEY_ENCRYPTION_KEY/);
    expect(stderr).not.toMatch(/GRPC_LISTEN/);
  });

  it('the gateway with a bad port refuses to start and names it', async () => {
    const child = spawn(process.execPath, [path.join(ROOT, 'apps/api-gateway/dist/main.js')], {
      env: { PATH: process.env.PATH, HTTP_PORT: '70000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(78);
    expect(stderr).toMatch(/HTTP_PORT/);
  });
});
