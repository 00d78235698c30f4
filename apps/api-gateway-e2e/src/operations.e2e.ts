import { freePort, startEmbeddedPostgres } from '@overture/testing';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { ROOT, Suite, databaseUrlsOn } from '../../../tools/suite/suite.ts';
import { healthStatus, reflectedServices } from './grpc-probe.js';
import { startSuite, type RunningSuite } from './suite-fixture.js';

const SERVICE_NAMES = {
  auth: 'overture.auth.v1.AuthService',
  metadata: 'overture.metadata.v1.MetadataService',
  'playback-queue': 'overture.playback.v1.PlaybackService',
  recommendation: 'overture.recommendation.v1.RecommendationService',
} as const;

describe('operating the suite: health, reflection, shutdown', () => {
  let running: RunningSuite;

  beforeAll(async () => {
    running = await startSuite(inject('postgresServerUrl'), { demoTracks: 200, extraEnv: { metadata: { SHUTDOWN_DELAY_MS: '1500' } } });
  });
  afterAll(() => running?.stop());

  it('every service answers grpc.health.v1 with SERVING and lists its services by reflection', async () => {
    for (const [app, name] of Object.entries(SERVICE_NAMES)) {
      const address = `127.0.0.1:${running.suite.options.ports[app as keyof typeof SERVICE_NAMES]}`;
      expect(await healthStatus(address), app).toBe('SERVING');
      expect(await healthStatus(address, name), app).toBe('SERVING');
      expect(await healthStatus(address, 'liveness'), app).toBe('SERVING');
      expect(await reflectedServices(address)).toEqual(expect.arrayContaining([name, 'grpc.health.v1.Health']));
    }
  });

  it('the gateway serves OpenAPI and readiness', async () => {
    const docs = (await (await fetch(`${running.baseUrl}/docs/json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(docs.paths)).toEqual(expect.arrayContaining(['/v1/search', '/v1/me/player/queue', '/v1/recommendations', '/v1/auth/token']));
    expect((await fetch(`${running.baseUrl}/health/ready`)).status).toBe(200);
  });

  it('on SIGTERM a service reports NOT_SERVING first, then exits cleanly', async () => {
    const address = `127.0.0.1:${running.suite.options.ports.metadata}`;
    const child = running.suite.processes.get('metadata')!;
    const exited = once(child, 'exit') as Promise<[number | null]>;
    child.kill('SIGTERM');
    await vi.waitFor(async () => expect(await healthStatus(address)).toBe('NOT_SERVING'), { timeout: 1_400, interval: 50 });
    const [code] = await exited;
    expect(code).toBe(0);
  });
});

describe('readiness follows the database', () => {
  it('reports NOT_SERVING while its PostgreSQL is down and SERVING again when it is back', async () => {
    // Under the repository's .data/: PostgreSQL runs as its own user and needs to reach the folder.
    const dataDir = path.join(ROOT, '.data', `e2e-pg-${process.pid}-${Date.now()}`);
    const port = await freePort();
    let pg = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'pg'), port });
    const suite = new Suite({
      databaseUrls: databaseUrlsOn(pg.url),
      ports: { http: await freePort(), auth: await freePort(), metadata: await freePort(), 'playback-queue': await freePort(), recommendation: await freePort() },
      logLevel: 'error',
      onOutput: () => undefined,
    });
    const address = `127.0.0.1:${suite.options.ports.metadata}`;
    try {
      await suite.runCommand('metadata', ['migrate']);
      suite.start('metadata');
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
      env: { PATH: process.env.PATH, DATABASE_URL: 'mysql://nope', AUTH_KEY_ENCRYPTION_KEY: 'too-short', GRPC_LISTEN: '127.0.0.1:1' },
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
