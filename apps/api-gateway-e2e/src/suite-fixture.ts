import { createTestDatabase, freePort, type TestDatabase } from '@overture/testing';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { freeOpsPorts, ROOT, SERVICES, Suite, type AppName, type ServiceName } from '../../../tools/suite/suite.ts';

export interface RunningSuite {
  readonly suite: Suite;
  readonly baseUrl: string;
  /** Each app's ops port (its `/metrics`): `suite.metricsUrl(app)` is the URL. */
  readonly opsPorts: Readonly<Record<AppName, number>>;
  /** Everything the apps printed, for failure messages. */
  readonly output: string[];
  stop(): Promise<void>;
}

/**
 * Starts the real suite for one test file: four fresh databases on the test PostgreSQL server, the
 * built apps as child processes on free loopback ports, migrations applied, a small demo catalogue.
 */
export async function startSuite(
  serverUrl: string,
  options: { demoTracks?: number; extraEnv?: Suite['options']['extraEnv'] } = {},
): Promise<RunningSuite> {
  for (const app of [...SERVICES, 'api-gateway']) {
    if (!existsSync(path.join(ROOT, 'apps', app, 'dist', 'main.js'))) {
      throw new Error(`apps/${app} is not built: run \`npm test\` (it builds first) or \`npx nx run-many -t build\``);
    }
  }
  const databases: TestDatabase[] = [];
  const databaseUrls = {} as Record<ServiceName, string>;
  for (const service of SERVICES) {
    const db = await createTestDatabase(serverUrl, `e2e_${service}`);
    databases.push(db);
    databaseUrls[service] = db.url;
  }
  const output: string[] = [];
  const opsPorts = await freeOpsPorts();
  const suite = new Suite({
    opsPorts,
    databaseUrls,
    ports: {
      http: await freePort(),
      auth: await freePort(),
      metadata: await freePort(),
      'playback-queue': await freePort(),
      recommendation: await freePort(),
    },
    tlsRoot: inject('grpcTlsRoot'),
    logLevel: 'warn',
    onOutput: (app, line) => output.push(`[${app}] ${line}`),
    extraEnv: options.extraEnv,
  });
  const stop = async (): Promise<void> => {
    await suite.stopAll();
    for (const db of databases) await db.drop();
  };
  try {
    await suite.migrate();
    await suite.runCommand('metadata', ['seed-demo', String(options.demoTracks ?? 1500)]);
    await suite.startAll();
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n--- app output ---\n${output.slice(-60).join('\n')}`);
  }
  return { suite, baseUrl: suite.gatewayUrl, opsPorts, output, stop };
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** A tiny JSON client for the gateway, as a client app would use it. */
export function apiClient(baseUrl: string) {
  return async function api<T = Record<string, unknown>>(
    method: string,
    pathAndQuery: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${baseUrl}${pathAndQuery}`, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // leave as text: assertions will show it
    }
    return { status: response.status, headers: response.headers, body: body as T };
  };
}
