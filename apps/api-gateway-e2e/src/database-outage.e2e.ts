import { freePort, startEmbeddedPostgres } from '@overture/testing';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, inject, it, vi } from 'vitest';
import { ROOT, Suite, databaseUrlsOn, freeOpsPorts } from '../../../tools/suite/suite.ts';
import { apiClient, type ApiResponse } from './suite-fixture.js';

interface ErrorJson {
  error: { status: number; reason: string; message: string };
}

describe("a service's database down and back", () => {
  it('is answered 503 with Retry-After and a reason, never 500, and served again soon after it is back', async () => {
    // Under the repository's .data/: PostgreSQL runs as its own user and needs to reach the folder.
    const dataDir = path.join(ROOT, '.data', `e2e-pg-outage-${process.pid}-${Date.now()}`);
    const port = await freePort();
    let pg = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'pg'), port });
    const output: string[] = [];
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
      logLevel: 'warn',
      onOutput: (app, line) => output.push(`[${app}] ${line}`),
    });
    try {
      await suite.migrate();
      await suite.startAll();
      const api = apiClient(suite.gatewayUrl);
      const email = `outage-${Date.now()}@example.com`;
      const password = 'correct horse battery';
      expect((await api('POST', '/v1/auth/register', { body: { email, password, display_name: 'Out' } })).status).toBe(201);
      const issued = await api<{ access_token: string }>('POST', '/v1/auth/token', {
        body: { grant_type: 'password', username: email, password },
      });
      const token = issued.body.access_token;
      const queue = () => api<ErrorJson>('GET', '/v1/me/player/queue', { token });
      expect((await queue()).status).toBe(200);

      await pg.stop();
      const down: ApiResponse<ErrorJson>[] = [];
      for (let i = 0; i < 20; i++) down.push(await queue());
      for (const answer of down) {
        expect(answer.status, JSON.stringify(answer.body)).toBe(503);
        expect(answer.headers.get('retry-after')).toBe('1');
        expect(['DATABASE_UNAVAILABLE', 'SERVICE_UNAVAILABLE']).toContain(answer.body.error.reason);
      }
      // The first answers name the cause; once the breaker opens, the gateway answers for the service.
      expect(down[0]?.body.error.reason).toBe('DATABASE_UNAVAILABLE');

      pg = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'pg'), port });
      const back = Date.now();
      const during: number[] = [];
      await vi.waitFor(
        async () => {
          const answer = await queue();
          during.push(answer.status);
          expect(answer.status).toBe(200);
        },
        { timeout: 15_000, interval: 50 },
      );
      console.info(`database back: served again after ${Date.now() - back} ms (${during.length} requests)`);
      expect(during.filter((s) => s !== 200 && s !== 503)).toEqual([]);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- app output ---\n${output.slice(-40).join('\n')}`, { cause: error });
    } finally {
      await suite.stopAll();
      await pg.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 240_000);
});
