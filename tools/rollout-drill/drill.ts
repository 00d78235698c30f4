// The rollout drill: the whole suite with N replicas per app behind DNS names on loopback, a
// constant-rate mixed load (open model) with WebSocket listeners, and per phase: each app rolled as
// Kubernetes rolls it, kill -9 of a replica, a stalled replica (SIGSTOP), PostgreSQL killed -9 and
// restarted. Reports per phase requests, failures by status and reason, latency, pushes missed and
// acknowledged writes lost. How to run and read it: docs/operations.md, "Rollout drill".
//
//   npx node tools/rollout-drill/drill.ts [--mode short|full] [--replicas 2] [--rate 40] [--ws-clients 16] [--players 16] [--out dir]
//
// Starts its own PostgreSQL (embedded, in .data/) so that it can kill it; needs the apps built.
import { startEmbeddedPostgres, type EmbeddedServer } from '@overture/database/embedded';
import { createWriteStream } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  APPS,
  ROOT,
  SERVICES,
  Suite,
  databaseUrlsOn,
  devTlsRoot,
  freeLocalPort,
  newKeyEncryptionKey,
  type AppName,
} from '../suite/suite.ts';
import { DrillClient } from './client.ts';
import { lostWrites } from './durability.ts';
import { Fleet, type Pod } from './fleet.ts';
import { OpenLoad, type PlayingListener, type Track, type WatchedListener } from './load.ts';
import { LoopbackDns } from './loopback-dns.ts';
import { killPostgres } from './postgres-crash.ts';
import { PushWatcher } from './push-watcher.ts';
import { markdownTable, phaseReports, type Fault, type LostWrite, type PhaseReport, type PhaseWindow } from './report.ts';

export type DrillMode = 'short' | 'full';

export interface DrillOptions {
  mode: DrillMode;
  replicas: number;
  /** Requests per second, all kinds together. */
  rate: number;
  /** Listeners with a WebSocket device whose queue the load changes. */
  wsClients: number;
  /** Listeners sending progress heartbeats (and whose tokens the reads use). */
  players: number;
  /** The certificates' folder (tests pass their own); defaults to .data/tls. */
  tlsRoot?: string;
  /** Where report.json, report.md and apps.log go. */
  outDir: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface DrillResult {
  options: Omit<DrillOptions, 'log'>;
  startedAt: string;
  phases: PhaseReport[];
  faults: Fault[];
  lost: { phase: string; kind: string; why: string }[];
  /** Changes acknowledged (at `ackedAt`, epoch ms) that the listener's other device never learnt. */
  missed: { phase: string; kind: string; userId: string; version: number; ackedAt: number }[];
  /** The first failed requests (after retries), with when they were due (epoch ms), to set beside fleetEvents and apps.log. */
  failedRequests: { phase: string; kind: string; dueAt: number; status: number; reason: string; attempts: number }[];
  websocket: { connects: number; resyncs: number; resumes: number; resumeErrors: number; closes: Record<string, number> };
  fleetEvents: { at: number; what: string }[];
  markdown: string;
}

/** What each mode does besides the rolls: how long each quiet stretch lasts, and which faults. */
const PLAN: Record<
  DrillMode,
  { baselineMs: number; settleMs: number; stallMs: number; killApp: AppName; stallApps: AppName[]; postgres: boolean }
> = {
  short: { baselineMs: 5_000, settleMs: 1_000, stallMs: 3_000, killApp: 'playback-queue', stallApps: ['metadata'], postgres: false },
  full: {
    baselineMs: 30_000,
    settleMs: 5_000,
    stallMs: 6_000,
    killApp: 'playback-queue',
    stallApps: ['metadata', 'playback-queue'],
    postgres: true,
  },
};

/** The short mode's small fixed load (the end-to-end test runs it). */
export const SHORT_LOAD = { rate: 15, wsClients: 8, players: 8 } as const;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runDrill(options: DrillOptions): Promise<DrillResult> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const plan = PLAN[options.mode];
  const startedAt = new Date().toISOString();
  await mkdir(options.outDir, { recursive: true });
  const appLog = createWriteStream(path.join(options.outDir, 'apps.log'));
  const dataDir = path.join(ROOT, '.data', `rollout-drill-pg-${process.pid}-${Date.now()}`);
  const pgPort = await freeLocalPort();
  const startPostgres = () => startEmbeddedPostgres({ dataDir, port: pgPort, settings: { max_connections: '400' } });
  let postgres: EmbeddedServer = await startPostgres();
  const crashedServers: EmbeddedServer[] = [];
  const dns = new LoopbackDns();
  const suite = new Suite({
    opsPorts: Object.fromEntries(APPS.map((app) => [app, 0])) as Record<AppName, number>,
    tlsRoot: options.tlsRoot ?? (await devTlsRoot()),
    databaseUrls: databaseUrlsOn(postgres.url),
    ports: { http: 0, auth: 0, metadata: 0, 'playback-queue': 0, recommendation: 0 },
    // One key for every auth pod: each must open the signing keys the others sealed.
    authKeyEncryptionKey: newKeyEncryptionKey(),
    logLevel: 'warn',
    onOutput: (app, line) => appLog.write(`${new Date().toISOString()} [${app}] ${line}\n`),
  });
  const fleet = new Fleet({
    suite,
    dns,
    dnsAuthority: await dns.listen(),
    replicas: options.replicas,
    extraEnv: {
      // Tokens outlive the run, so listeners' sockets are not closed for an expired token meanwhile;
      // and every listener signs up from the one address the drill has.
      auth: { AUTH_ACCESS_TOKEN_TTL_SECONDS: '3600', AUTH_REGISTER_FREE_ATTEMPTS_PER_ADDRESS: '1000' },
    },
  });
  const watchers = new Map<string, PushWatcher>();
  let load: OpenLoad | undefined;
  try {
    log(
      `load average before: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    const setupStartedAt = Date.now();
    // Each service's database is its own: their migrations (and the demo catalogue) run side by side.
    await Promise.all(
      SERVICES.map(async (service) => {
        await suite.runCommand(service, ['migrate']);
        if (service === 'metadata') await suite.runCommand('metadata', ['seed-demo', '500']);
      }),
    );
    await fleet.allocatePorts(APPS);
    // auth first: the others load its keys and policy as they start; the gateways last.
    await fleet.startAll([['auth'], SERVICES.filter((s) => s !== 'auth'), ['api-gateway']]);
    log(`${fleet.pods.length} pods ready after ${((Date.now() - setupStartedAt) / 1_000).toFixed(0)} s`);

    const client = new DrillClient(() => fleet.gatewayUrls());
    const { tracks, searchWords } = await catalogue(client);
    const watched = await Promise.all(Array.from({ length: options.wsClients }, (_, i) => watchedListener(client, tracks, i, fleet)));
    for (const listener of watched) watchers.set(listener.userId, listener.watcher);
    const playing = await Promise.all(Array.from({ length: options.players }, (_, i) => playingListener(client, tracks, i)));
    log(`${watched.length} WebSocket listeners, ${playing.length} playing listeners`);

    load = new OpenLoad({ client, tracks, searchWords, watched, playing }, options.rate);
    const running = load;
    const windows: PhaseWindow[] = [];
    const phase = async (name: string, description: string, act: (fault: (what: string) => void) => Promise<void>) => {
      const window: PhaseWindow = { name, description, startedAt: performance.now(), endedAt: 0, faults: [], loadAverage: [] };
      running.phase = name;
      log(`phase ${name}: ${description}`);
      await act((what) => window.faults.push({ at: performance.now(), what, inFlight: running.inFlight }));
      window.endedAt = performance.now();
      window.loadAverage = loadavg();
      windows.push(window);
    };
    const victim = (app: AppName): Pod => {
      const pod = fleet.podsOf(app).find((p) => p.inService);
      if (!pod) throw new Error(`no ${app} pod in service`);
      return pod;
    };

    load.start();
    await phase('baseline', 'steady load, nothing done', async () => {
      await sleep(plan.baselineMs);
    });
    for (const app of ['auth', 'metadata', 'recommendation', 'playback-queue', 'api-gateway'] as const) {
      await phase(
        `roll ${app}`,
        `${app}: ${options.replicas} new pods one at a time, each old one deleted once its successor is ready`,
        async () => {
          await fleet.roll(app);
          await sleep(plan.settleMs);
        },
      );
    }
    await phase(`kill ${plan.killApp}`, `kill -9 of one ${plan.killApp} pod, restarted at once on the same address`, async (fault) => {
      await sleep(plan.settleMs);
      const pod = victim(plan.killApp);
      fault(`kill -9 ${pod.name}`);
      await fleet.killAndRestart(pod);
      await sleep(plan.settleMs);
    });
    for (const app of plan.stallApps) {
      await phase(`stall ${app}`, `SIGSTOP of one ${app} pod for ${plan.stallMs / 1_000} s, then SIGCONT`, async (fault) => {
        await sleep(plan.settleMs);
        const pod = victim(app);
        fault(`SIGSTOP ${pod.name}`);
        fleet.stall(pod);
        await sleep(plan.stallMs);
        fleet.resume(pod);
        await sleep(plan.settleMs);
      });
    }
    if (plan.postgres) {
      await phase(
        'kill postgres',
        'kill -9 of the PostgreSQL server and every backend, restarted at once (crash recovery)',
        async (fault) => {
          await sleep(plan.settleMs);
          fault('kill -9 postgres');
          await killPostgres(dataDir);
          crashedServers.push(postgres);
          postgres = await startPostgres();
          fleet.note('postgres ready');
          await sleep(plan.settleMs * 2);
        },
      );
    }
    await load.stop();
    log(`load stopped: ${load.records.length} requests`);

    // Pushes still on their way get a moment; then whatever has not arrived is missed.
    const acked = load.acked;
    const undelivered = () =>
      acked.filter(
        (w) =>
          w.version && (w.kind === 'queue-add' || w.kind === 'next') && !watchers.get(w.userId)?.delivery(w.version.kind, w.version.value),
      );
    const settleUntil = Date.now() + 5_000;
    while (undelivered().length > 0 && Date.now() < settleUntil) await sleep(100);
    const lost: LostWrite[] = await lostWrites(suite.options.databaseUrls['playback-queue'], acked);
    const phases = phaseReports(windows, load.records, acked, watchers, lost);
    const markdown = markdownTable(phases);
    const stats = [...watchers.values()].map((w) => w.stats);
    const closes: Record<string, number> = {};
    for (const s of stats) for (const [code, n] of s.closes) closes[code] = (closes[code] ?? 0) + n;
    const result: DrillResult = {
      options: {
        mode: options.mode,
        replicas: options.replicas,
        rate: options.rate,
        wsClients: options.wsClients,
        players: options.players,
        outDir: options.outDir,
      },
      startedAt,
      phases,
      faults: windows.flatMap((w) => w.faults),
      lost: lost.map((l) => ({ phase: l.write.phase, kind: l.write.kind, why: l.why })),
      failedRequests: load.records
        .filter((r) => !r.ok)
        .slice(0, 500)
        .map((r) => ({
          phase: r.phase,
          kind: r.kind,
          dueAt: Math.round(performance.timeOrigin + r.dueAt),
          status: r.status,
          reason: r.reason,
          attempts: r.attempts.length,
        })),
      missed: undelivered().map((w) => ({
        phase: w.phase,
        kind: w.kind,
        userId: w.userId,
        version: w.version?.value ?? -1,
        ackedAt: Math.round(performance.timeOrigin + w.ackedAt),
      })),
      websocket: {
        connects: stats.reduce((sum, s) => sum + s.connects, 0),
        resyncs: stats.reduce((sum, s) => sum + s.resyncs, 0),
        resumes: stats.reduce((sum, s) => sum + s.resumes, 0),
        resumeErrors: stats.reduce((sum, s) => sum + s.resumeErrors, 0),
        closes,
      },
      fleetEvents: fleet.events,
      markdown,
    };
    await writeFile(path.join(options.outDir, 'report.json'), `${JSON.stringify(result, null, 2)}\n`);
    await writeFile(path.join(options.outDir, 'report.md'), `${markdown}\n`);
    return result;
  } finally {
    for (const watcher of watchers.values()) watcher.stop();
    await load?.stop();
    await fleet.stopAll();
    await dns.close();
    for (const server of crashedServers) await server.stop();
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
    appLog.end();
  }
}

/** Track ids and durations, and words of their titles to search for. */
async function catalogue(client: DrillClient): Promise<{ tracks: Track[]; searchWords: string[] }> {
  const token = await signUp(client, 'scout');
  const found = await client.send<{ tracks: (Track & { title: string })[] }>({ method: 'GET', path: '/v1/search?limit=50', token });
  if (!found.ok) throw new Error(`search failed: ${found.status} ${found.reason}`);
  const tracks = found.body.tracks.filter((t) => t.duration_ms > 60_000);
  if (tracks.length < 10) throw new Error('the demo catalogue has too few tracks');
  const searchWords = [...new Set(found.body.tracks.flatMap((t) => t.title.split(/\s+/)).filter((w) => w.length > 3))].slice(0, 20);
  return { tracks, searchWords: searchWords.length ? searchWords : [''] };
}

async function signUp(client: DrillClient, name: string): Promise<string> {
  const email = `${name}-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
  const password = 'correct horse battery';
  const registered = await client.send({ method: 'POST', path: '/v1/auth/register', body: { email, password, display_name: name } });
  // A retried registration whose first attempt went through finds the e-mail taken: by us.
  const retriedIntoItself = registered.attempts.length > 1 && registered.reason === 'EMAIL_TAKEN';
  if (!registered.ok && !retriedIntoItself) throw new Error(`register failed: ${registered.status} ${registered.reason}`);
  const issued = await client.send<{ access_token: string }>({
    method: 'POST',
    path: '/v1/auth/token',
    body: { grant_type: 'password', email, password },
  });
  if (!issued.ok) throw new Error(`sign-in failed: ${issued.status} ${issued.reason}`);
  return issued.body.access_token;
}

async function userIdOf(client: DrillClient, token: string): Promise<string> {
  const me = await client.send<{ id: string }>({ method: 'GET', path: '/v1/me', token });
  if (!me.ok) throw new Error(`GET /v1/me failed: ${me.status}`);
  return me.body.id;
}

/** A listener with 30 tracks queued, playing on "phone", and a "speaker" on the WebSocket. */
async function watchedListener(client: DrillClient, tracks: readonly Track[], i: number, fleet: Fleet): Promise<WatchedListener> {
  const token = await signUp(client, `watched${i}`);
  const userId = await userIdOf(client, token);
  const queued = await client.send({
    method: 'POST',
    path: '/v1/me/player/queue',
    token,
    body: { track_ids: Array.from({ length: 30 }, (_, k) => tracks[(i + k) % tracks.length]?.id) },
  });
  if (!queued.ok) throw new Error(`queueing failed: ${queued.status} ${queued.reason}`);
  const started = await client.send({ method: 'POST', path: '/v1/me/player/next', token, body: { device_id: 'phone' } });
  if (!started.ok) throw new Error(`starting play failed: ${started.status} ${started.reason}`);
  const pick = new DrillClient(() => fleet.gatewayUrls());
  const watcher = new PushWatcher(userId, token, () => pick.pickGateway());
  await watcher.start();
  return { userId, token, watcher };
}

/** A listener playing one track on "car". */
async function playingListener(client: DrillClient, tracks: readonly Track[], i: number): Promise<PlayingListener> {
  const token = await signUp(client, `playing${i}`);
  const userId = await userIdOf(client, token);
  const track = tracks[i % tracks.length] as Track;
  const queued = await client.send({ method: 'POST', path: '/v1/me/player/queue', token, body: { track_ids: [track.id] } });
  if (!queued.ok) throw new Error(`queueing failed: ${queued.status} ${queued.reason}`);
  const started = await client.send<{ item: { queue_item_id: string } }>({
    method: 'POST',
    path: '/v1/me/player/next',
    token,
    body: { device_id: 'car' },
  });
  if (!started.ok) throw new Error(`starting play failed: ${started.status} ${started.reason}`);
  return { userId, token, queueItemId: started.body.item.queue_item_id, durationMs: track.duration_ms, since: Date.now() };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string', default: 'full' },
      replicas: { type: 'string', default: '2' },
      rate: { type: 'string' },
      'ws-clients': { type: 'string' },
      players: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const mode = values.mode === 'short' ? 'short' : 'full';
  const result = await runDrill({
    mode,
    replicas: Number(values.replicas),
    rate: Number(values.rate ?? (mode === 'short' ? SHORT_LOAD.rate : 40)),
    wsClients: Number(values['ws-clients'] ?? (mode === 'short' ? SHORT_LOAD.wsClients : 16)),
    players: Number(values.players ?? (mode === 'short' ? SHORT_LOAD.players : 16)),
    outDir: values.out ?? path.join(ROOT, '.data', 'rollout-drill'),
  });
  process.stdout.write(`\n${result.markdown}\n\nWebSocket: ${JSON.stringify(result.websocket)}\n`);
  if (result.lost.length) process.stdout.write(`lost writes: ${JSON.stringify(result.lost, null, 1)}\n`);
  if (result.missed.length) process.stdout.write(`missed pushes: ${JSON.stringify(result.missed)}\n`);
  process.stdout.write(`report: ${path.join(result.options.outDir, 'report.json')}\n`);
}

if (import.meta.main) await main();
