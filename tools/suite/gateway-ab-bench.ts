// Two suites side by side, alike but for their environment, each on fresh databases of one
// PostgreSQL server; the same closed-loop load goes through each gateway in turn, alternating which
// goes first, on a read (GET /v1/tracks/{id}: gateway → metadata) and a write
// (PUT /v1/me/player/queue: gateway → playback-queue → metadata). Reports each run, then the median
// of the rounds per route and mode, with what the first mode costs against the second.
//
// Uses OVERTURE_DATABASE_URL when set, else an embedded PostgreSQL in a throwaway folder.
import { rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedServer } from '@overture/database/embedded';
import autocannon from 'autocannon';
import pg from 'pg';
import { cpuSeconds, median, percentile } from './stats.ts';
import { databaseUrl, devTlsRoot, freeLocalPort, freeOpsPorts, ROOT, SERVICES, Suite, type AppName, type ServiceName } from './suite.ts';

export const ROUTES = ['GET /v1/tracks/{id}', 'PUT /v1/me/player/queue'] as const;
type Route = (typeof ROUTES)[number];

export interface AbBenchOptions<M extends string> {
  /** Names the databases and the report (`identity`, `telemetry`). */
  readonly name: string;
  /** The mode measured, then the reference it is compared with. */
  readonly modes: readonly [M, M];
  /** Each app's environment in a mode, over the suite's own. */
  readonly env: (mode: M) => Partial<Record<AppName, Record<string, string>>>;
  /** What the cost column says, e.g. `cost of mutual TLS`. */
  readonly costOf: string;
  readonly seconds: number;
  readonly connections: number;
  readonly rounds: number;
  readonly logLevel?: string;
  /** An app whose V8 CPU profiles go to .data/<name>-bench-profiles/<mode>/. */
  readonly profile?: AppName | undefined;
  /** Where the apps' output goes; stderr, prefixed, by default. */
  readonly onOutput?: (mode: M, app: AppName, line: string) => void;
  /** Runs beside a mode's suite while it is up (e.g. a scraper); returns how to stop it. */
  readonly beside?: (mode: M, suite: Suite) => () => void;
}

interface Run {
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  failed: number;
  /** Non-2xx answers by status, to say what failed. */
  statuses: Record<number, number>;
  /** CPU time per request of each app, in µs: where the cost goes. */
  cpuPerRequest: Partial<Record<AppName, number>>;
}

/** A started suite with what the load needs: a token per connection and tracks to queue. */
interface Target {
  suite: Suite;
  tokens: string[];
  trackIds: string[];
  stopBeside: () => void;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

async function json<T>(url: string, init: { method?: string; token?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

function databasePrefix(name: string): string {
  return `${name}_bench_${process.pid}_`;
}

async function startTarget<M extends string>(options: AbBenchOptions<M>, mode: M, serverUrl: string, tlsRoot: string): Promise<Target> {
  const databaseUrls = Object.fromEntries(
    SERVICES.map((s) => [s, databaseUrl(serverUrl, `${databasePrefix(options.name)}${mode}_${s.replace('-', '_')}`)]),
  ) as Record<ServiceName, string>;
  const extraEnv = options.env(mode);
  if (options.profile) {
    const dir = path.join(ROOT, '.data', `${options.name}-bench-profiles`, mode);
    extraEnv[options.profile] = { ...extraEnv[options.profile], NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${dir}` };
  }
  const suite = new Suite({
    opsPorts: await freeOpsPorts(),
    tlsRoot,
    databaseUrls,
    ports: {
      http: await freeLocalPort(),
      auth: await freeLocalPort(),
      metadata: await freeLocalPort(),
      'playback-queue': await freeLocalPort(),
      recommendation: await freeLocalPort(),
    },
    logLevel: options.logLevel ?? 'error',
    extraEnv,
    onOutput: (app, line) => (options.onOutput ? options.onOutput(mode, app, line) : process.stderr.write(`[${mode} ${app}] ${line}\n`)),
  });
  await suite.migrate();
  await suite.runCommand('metadata', ['seed-demo', '200']);
  await suite.startAll();
  const base = suite.gatewayUrl;
  const tokens: string[] = [];
  for (let i = 0; i < options.connections; i++) {
    const email = `bench-${mode}-${i}@example.com`;
    await json(`${base}/v1/auth/register`, {
      method: 'POST',
      body: { email, password: 'correct horse battery', display_name: `Bench ${i}` },
    });
    const { access_token } = await json<{ access_token: string }>(`${base}/v1/auth/token`, {
      method: 'POST',
      body: { grant_type: 'password', email, password: 'correct horse battery' },
    });
    tokens.push(access_token);
  }
  const page = await json<{ tracks: { id: string }[] }>(`${base}/v1/search?limit=10`, { token: tokens[0] });
  const stopBeside = options.beside?.(mode, suite) ?? (() => undefined);
  return { suite, tokens, trackIds: page.tracks.map((t) => t.id), stopBeside };
}

async function load(target: Target, route: Route, seconds: number, connections: number): Promise<Run> {
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  const [trackId] = target.trackIds;
  const request =
    route === 'GET /v1/tracks/{id}'
      ? { method: 'GET' as const, url: `${target.suite.gatewayUrl}/v1/tracks/${trackId}` }
      : {
          method: 'PUT' as const,
          url: `${target.suite.gatewayUrl}/v1/me/player/queue`,
          body: JSON.stringify({ track_ids: target.trackIds.slice(0, 5) }),
        };
  let next = 0;
  const apps: AppName[] = ['api-gateway', 'metadata', 'playback-queue', 'auth'];
  const cpuBefore = apps.map((app) => cpuSeconds(target.suite.processes.get(app)?.pid));
  const result = await autocannon({
    connections,
    duration: seconds,
    ...request,
    // One listener per connection: queue edits do not queue behind each other's row lock.
    setupClient: (client) => {
      client.setHeaders({ authorization: `Bearer ${target.tokens[next++ % target.tokens.length]}`, 'content-type': 'application/json' });
      client.on('response', (status: number, _bytes: number, responseTime: number) => {
        latencies.push(responseTime);
        if (status >= 300) statuses[status] = (statuses[status] ?? 0) + 1;
      });
    },
  });
  latencies.sort((a, b) => a - b);
  const cpuPerRequest = Object.fromEntries(
    apps.map((app, i) => [app, ((cpuSeconds(target.suite.processes.get(app)?.pid) - cpuBefore[i]) / result.requests.total) * 1e6]),
  );
  return {
    rps: result.requests.total / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    failed: result.non2xx + result.errors + result.timeouts,
    statuses,
    cpuPerRequest,
  };
}

function cpuLine(run: Run): string {
  return Object.entries(run.cpuPerRequest)
    .map(([app, us]) => `${app} ${us.toFixed(0)}`)
    .join(', ');
}

const percent = (value: number): string => `${(value * 100).toFixed(1)} %`;

export async function runGatewayAbBench<M extends string>(options: AbBenchOptions<M>): Promise<void> {
  const { modes, seconds, connections, rounds } = options;
  let embedded: EmbeddedServer | undefined;
  let dataDir: string | undefined;
  let serverUrl = process.env.OVERTURE_DATABASE_URL;
  if (!serverUrl) {
    dataDir = path.join(ROOT, '.data', `${options.name}-bench-pg-${process.pid}`);
    embedded = await startEmbeddedPostgres({ dataDir, persistent: false, port: await freeLocalPort() });
    serverUrl = embedded.url;
  }
  const tlsRoot = await devTlsRoot();
  const targets = new Map<M, Target>();
  try {
    for (const mode of modes) targets.set(mode, await startTarget(options, mode, serverUrl, tlsRoot));
    say(
      `${options.name} bench: ${connections} connections, ${seconds} s per run, ${rounds} rounds, load average ${loadavg()[0].toFixed(2)}`,
    );
    const runs = new Map<string, Run[]>();
    for (let round = 0; round < rounds; round++) {
      for (const route of ROUTES) {
        // Alternate which mode goes first, so neither always meets a warmer or cooler machine.
        const order = round % 2 === 0 ? modes : [...modes].reverse();
        for (const mode of order) {
          const run = await load(targets.get(mode) as Target, route, seconds, connections);
          const key = `${route}|${mode}`;
          runs.set(key, [...(runs.get(key) ?? []), run]);
          say(
            `  round ${round + 1} ${route.padEnd(26)} ${mode.padEnd(9)} ${run.rps.toFixed(0).padStart(6)} req/s  p50 ${run.p50.toFixed(1)} p95 ${run.p95.toFixed(1)} p99 ${run.p99.toFixed(1)} ms  failed ${run.failed}${run.failed ? ` ${JSON.stringify(run.statuses)}` : ''}  CPU µs/request ${cpuLine(run)}`,
          );
        }
      }
    }
    say(`\nmedian of rounds                     req/s    p50     p95     p99   (ms)  failed   ${options.costOf}: throughput, p99`);
    for (const route of ROUTES) {
      const medians = new Map(
        modes.map((mode) => {
          const list = runs.get(`${route}|${mode}`) ?? [];
          return [
            mode,
            {
              rps: median(list.map((r) => r.rps)),
              p50: median(list.map((r) => r.p50)),
              p95: median(list.map((r) => r.p95)),
              p99: median(list.map((r) => r.p99)),
              failed: list.reduce((n, r) => n + r.failed, 0),
            },
          ];
        }),
      );
      const [subject, reference] = modes.map((mode) => medians.get(mode) as NonNullable<ReturnType<typeof medians.get>>);
      for (const [mode, m] of medians) {
        const cost = mode === modes[0] ? `  ${percent(1 - subject.rps / reference.rps)}, ${percent(subject.p99 / reference.p99 - 1)}` : '';
        say(
          `${route.padEnd(26)} ${mode.padEnd(9)} ${m.rps.toFixed(0).padStart(6)}  ${m.p50.toFixed(1).padStart(6)}  ${m.p95.toFixed(1).padStart(6)}  ${m.p99.toFixed(1).padStart(6)}  ${String(m.failed).padStart(6)}${cost}`,
        );
      }
    }
  } finally {
    for (const target of targets.values()) {
      target.stopBeside();
      await target.suite.stopAll();
    }
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
      `${databasePrefix(options.name)}%`,
    ]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await admin.end();
    await embedded?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}
