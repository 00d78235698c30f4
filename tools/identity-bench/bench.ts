// Service-identity benchmark: what mutual TLS between the apps costs on the hot path. Two suites
// run side by side on fresh databases, one as deployed (mutual TLS, every caller checked) and one
// with GRPC_INSECURE_PLAINTEXT; the same closed-loop load goes through each gateway in turn,
// alternating which goes first, on GET /v1/tracks/{id} (gateway → metadata) and a queue edit
// (PUT /v1/me/player/queue: gateway → playback-queue → metadata, and a write).
//
//   npx node tools/identity-bench/bench.ts [--seconds 10] [--connections 16] [--rounds 3] [--profile <app>]
//
// --profile writes V8 CPU profiles of that app in each suite to .data/identity-bench-profiles/<mode>/
// (the largest one is the server's; the others are its migrate and seed commands).
//
// Uses OVERTURE_DATABASE_URL when set, else an embedded PostgreSQL in a throwaway folder.
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startEmbeddedPostgres, type EmbeddedServer } from '@overture/database/embedded';
import autocannon from 'autocannon';
import pg from 'pg';
import {
  databaseUrl,
  devTlsRoot,
  freeLocalPort,
  ROOT,
  SERVICES,
  Suite,
  type AppName,
  type ServiceName,
  freeOpsPorts,
} from '../suite/suite.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    profile: { type: 'string' },
  },
});
const SECONDS = Number(args.seconds);
const CONNECTIONS = Number(args.connections);
const ROUNDS = Number(args.rounds);
const MODES = ['mtls', 'plaintext'] as const;
type Mode = (typeof MODES)[number];
const ROUTES = ['GET /v1/tracks/{id}', 'PUT /v1/me/player/queue'] as const;
type Route = (typeof ROUTES)[number];

const say = (line: string) => process.stdout.write(`${line}\n`);

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

// CPU seconds a process has used (user + system), from /proc (Linux; clock ticks of 10 ms).
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

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

/** A started suite with what the load needs: a token per connection and tracks to queue. */
interface Target {
  suite: Suite;
  tokens: string[];
  trackIds: string[];
}

async function startTarget(mode: Mode, serverUrl: string, tlsRoot: string): Promise<Target> {
  const databaseUrls = Object.fromEntries(
    SERVICES.map((s) => [s, databaseUrl(serverUrl, `identity_bench_${process.pid}_${mode}_${s.replace('-', '_')}`)]),
  ) as Record<ServiceName, string>;
  const plaintext = mode === 'plaintext' ? { GRPC_INSECURE_PLAINTEXT: 'true' } : {};
  const extraEnv = Object.fromEntries((['api-gateway', ...SERVICES] as AppName[]).map((app) => [app, { ...plaintext }])) as Record<
    AppName,
    Record<string, string>
  >;
  if (args.profile) {
    const dir = path.join(ROOT, '.data', 'identity-bench-profiles');
    extraEnv[args.profile as AppName] = {
      ...extraEnv[args.profile as AppName],
      NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${path.join(dir, mode)}`,
    };
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
    logLevel: 'error',
    extraEnv,
    onOutput: (app, line) => process.stderr.write(`[${mode} ${app}] ${line}\n`),
  });
  await suite.migrate();
  await suite.runCommand('metadata', ['seed-demo', '200']);
  await suite.startAll();
  const base = suite.gatewayUrl;
  const tokens: string[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
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
  return { suite, tokens, trackIds: page.tracks.map((t) => t.id) };
}

async function load(target: Target, route: Route): Promise<Run> {
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
    connections: CONNECTIONS,
    duration: SECONDS,
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
    rps: result.requests.total / SECONDS,
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

async function main(): Promise<void> {
  let embedded: EmbeddedServer | undefined;
  let dataDir: string | undefined;
  let serverUrl = process.env.OVERTURE_DATABASE_URL;
  if (!serverUrl) {
    dataDir = path.join(ROOT, '.data', `identity-bench-pg-${process.pid}`);
    embedded = await startEmbeddedPostgres({ dataDir, persistent: false, port: await freeLocalPort() });
    serverUrl = embedded.url;
  }
  const tlsRoot = await devTlsRoot();
  const targets = {} as Record<Mode, Target>;
  try {
    for (const mode of MODES) targets[mode] = await startTarget(mode, serverUrl, tlsRoot);
    say(`identity bench: ${CONNECTIONS} connections, ${SECONDS} s per run, ${ROUNDS} rounds, load average ${loadavg()[0].toFixed(2)}`);
    const runs = new Map<string, Run[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const route of ROUTES) {
        // Alternate which mode goes first, so neither always meets a warmer or cooler machine.
        const order = round % 2 === 0 ? MODES : [...MODES].reverse();
        for (const mode of order) {
          const run = await load(targets[mode], route);
          const key = `${route}|${mode}`;
          runs.set(key, [...(runs.get(key) ?? []), run]);
          say(
            `  round ${round + 1} ${route.padEnd(26)} ${mode.padEnd(9)} ${run.rps.toFixed(0).padStart(6)} req/s  p50 ${run.p50.toFixed(1)} p95 ${run.p95.toFixed(1)} p99 ${run.p99.toFixed(1)} ms  failed ${run.failed}${run.failed ? ` ${JSON.stringify(run.statuses)}` : ''}  CPU µs/request ${cpuLine(run)}`,
          );
        }
      }
    }
    say('\nmedian of rounds                     req/s    p50     p95     p99   (ms)  failed   throughput cost of mTLS');
    for (const route of ROUTES) {
      const medians = Object.fromEntries(
        MODES.map((mode) => {
          const list = runs.get(`${route}|${mode}`) ?? [];
          const failed = list.reduce((n, r) => n + r.failed, 0);
          return [
            mode,
            {
              rps: median(list.map((r) => r.rps)),
              p50: median(list.map((r) => r.p50)),
              p95: median(list.map((r) => r.p95)),
              p99: median(list.map((r) => r.p99)),
              failed,
              statuses: {},
              cpuPerRequest: {},
            },
          ];
        }),
      ) as Record<Mode, Run>;
      for (const mode of MODES) {
        const m = medians[mode];
        const cost = mode === 'mtls' ? `  ${((1 - medians.mtls.rps / medians.plaintext.rps) * 100).toFixed(1)} %` : '';
        say(
          `${route.padEnd(26)} ${mode.padEnd(9)} ${m.rps.toFixed(0).padStart(6)}  ${m.p50.toFixed(1).padStart(6)}  ${m.p95.toFixed(1).padStart(6)}  ${m.p99.toFixed(1).padStart(6)}  ${String(m.failed).padStart(6)}${cost}`,
        );
      }
    }
  } finally {
    for (const target of Object.values(targets)) await target.suite.stopAll();
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
      `identity_bench_${process.pid}_%`,
    ]);
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await admin.end();
    await embedded?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
