// Catalogue benchmark: `npx node tools/catalogue/bench.ts --tracks 1000000 [--concurrency 4] [--requests 600] [--reload] [--skip-reimport] [--clean]
//   [--classes one_facet,text] [--shared-buffers 16GB] [--no-prewarm]`  (BENCH_DUMP=file writes the recorded statements;
//   BENCH_LATENCIES=file writes every timed request: class, side, request index, start and latency in ms)
// Loads N synthetic tracks with the import CLI into an embedded PostgreSQL under .data/bench (kept
// between runs; --reload starts over), then runs a fixed mix of query classes at fixed concurrency,
// through the metadata gRPC service and as the same SQL sent straight to PostgreSQL, in the same run.
// Needs the apps built (`npx nx run-many -t build`).
import 'reflect-metadata';
import { Metadata } from '@grpc/grpc-js';
import { METADATA_V1, type metadataV1 } from '@overture/contracts';
import { statementName } from '@overture/database';
import { freePort, startEmbeddedPostgres } from '@overture/database/embedded';
import { createGrpcClient, transportSecurity, unary, withDeadline } from '@overture/grpc';
import { spawn, spawnSync, execSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { GENRE_PROFILES, mulberry32, TITLE_WORDS } from '../../apps/metadata/src/demo/synthetic-catalogue.ts';
import { writeCatalogue } from './generate.ts';
import { inProcessSearch, type Statement } from './in-process-search.ts';
import { nodeFlagsOf } from '../suite/node-flags.ts';
import { devTlsRoot } from '../suite/suite.ts';

// The benchmark's gRPC client stands for the gateway: it runs with the gateway's V8 flags, if any (a
// scavenge pauses every call in flight), rerunning itself under them when started without.
const clientFlags = nodeFlagsOf('api-gateway');
if (!clientFlags.every((flag) => process.execArgv.includes(flag))) {
  const rerun = spawnSync(process.execPath, [...clientFlags, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(rerun.status ?? 1);
}

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'apps/metadata/dist/main.js');

const { values: args } = parseArgs({
  allowNegative: true,
  options: {
    tracks: { type: 'string', default: '1000000' },
    concurrency: { type: 'string', default: '4' },
    requests: { type: 'string', default: '600' },
    reload: { type: 'boolean', default: false },
    'data-dir': { type: 'string', default: path.join(ROOT, '.data/bench') },
    clean: { type: 'boolean', default: false },
    'skip-reimport': { type: 'boolean', default: false },
    // A comma-separated subset of the query classes (default: all).
    classes: { type: 'string', default: '' },
    // Large enough for the hot relations at 10M tracks (deploy/README.md, "Sizing"): on a VM
    // the kernel may reclaim the page cache within a minute, so PostgreSQL's own buffers are the only
    // cache that stays. The embedded default is 128 MB.
    'shared-buffers': { type: 'string', default: '16GB' },
    // Load those relations into shared_buffers before measuring (pg_prewarm), as a server that has been
    // serving for a while would have them; --no-prewarm measures from a cold start.
    prewarm: { type: 'boolean', default: true },
  },
});
const N = Number(args.tracks);
const CONCURRENCY = Number(args.concurrency);
const REQUESTS = Number(args.requests);
const dataDir = path.resolve(args['data-dir']);
const log = (line: string) => process.stderr.write(`${line}\n`);
const load = () =>
  execSync('uptime')
    .toString()
    .trim()
    .replace(/^.*load average: /, '');

function run(cmd: string, argv: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    // The child's output goes to stderr: stdout carries only this script's JSON result.
    const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 2, 2] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')} exited with ${code}`))));
  });
}

// --- database and data -------------------------------------------------------------------------
mkdirSync(dataDir, { recursive: true });
const server = await startEmbeddedPostgres({
  dataDir: path.join(dataDir, 'pg'),
  persistent: true,
  settings: {
    shared_buffers: args['shared-buffers'],
    effective_cache_size: '16GB',
    maintenance_work_mem: '2GB',
    work_mem: '32MB',
    max_wal_size: '8GB',
    checkpoint_timeout: '30min',
  },
});
const dbName = `catalogue_${N}`;
const adminUrl = server.url;
const dbUrl = adminUrl.replace(/\/postgres$/, `/${dbName}`);
const tlsRoot = await devTlsRoot();
// Every command of main.js reads the service's whole config, certificate and cursor key included.
const metadataEnv = {
  DATABASE_URL: dbUrl,
  GRPC_TLS_DIR: path.join(tlsRoot, 'metadata'),
  METADATA_CURSOR_KEY: 'catalogue-bench-cursor-key-0123456789abcdef',
};
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
const exists = (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName])).rowCount;
if (args.reload && exists) await admin.query(`DROP DATABASE ${dbName}`);
const result: Record<string, unknown> = {
  tracks: N,
  concurrency: CONCURRENCY,
  requestsPerClass: REQUESTS,
  nodeFlags: { client: process.execArgv, service: nodeFlagsOf('metadata') },
  loadBefore: load(),
};
if (args.reload || !exists) {
  await admin.query(`CREATE DATABASE ${dbName}`);
  const file = path.join(dataDir, `catalogue-${N}.jsonl`);
  if (!existsSync(file)) {
    log(`generating ${N} tracks into ${file}`);
    await writeCatalogue(file, N);
  }
  await run(process.execPath, [MAIN, 'migrate'], { ...metadataEnv, LOG_LEVEL: 'warn' });
  log(`importing with the CLI (load: ${load()})`);
  const started = Date.now();
  await run(process.execPath, [MAIN, 'import', file, '--rejects', path.join(dataDir, 'rejected.jsonl')], {
    ...metadataEnv,
    LOG_LEVEL: 'warn',
  });
  const seconds = (Date.now() - started) / 1000;
  result.importSeconds = seconds;
  result.importRate = Math.round(N / seconds);
  if (!args['skip-reimport']) {
    log(`rerunning the import (idempotence check)`);
    const again = Date.now();
    await run(process.execPath, [MAIN, 'import', file, '--rejects', path.join(dataDir, 'rejected.jsonl')], {
      ...metadataEnv,
      LOG_LEVEL: 'warn',
    });
    result.reimportSeconds = (Date.now() - again) / 1000;
  }
}
await admin.end();
const db = new pg.Pool({ connectionString: dbUrl, max: CONCURRENCY });
// An idle connection the server closes at shutdown must not end the run with an unhandled 'error'.
db.on('error', (error) => log(`pool: ${error.message}`));
await db.query('VACUUM ANALYZE');
if (args.prewarm) {
  const started = Date.now();
  await db.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
  for (const relation of [
    'catalogue_terms',
    'catalogue_terms_prefix',
    'tracks_pkey',
    'tracks_doc',
    'tracks_release_date_doc',
    'track_postings_walk',
    'tracks',
  ]) {
    await db.query('SELECT pg_prewarm($1)', [relation]);
  }
  result.prewarmSeconds = (Date.now() - started) / 1000;
  log(`prewarmed the search relations in ${result.prewarmSeconds} s`);
}
result.trackCount = Number((await db.query('SELECT count(*) FROM tracks')).rows[0].count);
result.databaseSize = (await db.query('SELECT pg_size_pretty(pg_database_size(current_database())) AS s')).rows[0].s;
result.tableSizes = Object.fromEntries(
  (
    await db.query(
      `SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) AS s FROM pg_class WHERE relname IN ('tracks', 'track_postings', 'catalogue_terms', 'track_changes') ORDER BY 1`,
    )
  ).rows.map((r) => [r.relname, r.s]),
);

// --- the query mix -------------------------------------------------------------------------------
type Request = metadataV1.SearchTracksRequest;
const r = mulberry32(1234);
const pick = <T>(items: readonly T[]): T => items[Math.floor(r() * items.length)] as T;
const genres = GENRE_PROFILES.map((g) => g.name);
const moods = [...new Set(GENRE_PROFILES.flatMap((g) => g.moods))];
const languages = [...new Set(GENRE_PROFILES.flatMap((g) => g.languages))];
const words = [...TITLE_WORDS.en, ...TITLE_WORDS.es, ...TITLE_WORDS.zh, ...TITLE_WORDS.ja];
const base = (over: Partial<Request>, options: Partial<metadataV1.SearchOptions> = {}): Request => ({
  query: '',
  genre: '',
  mood: '',
  language: '',
  limit: 20,
  cursor: '',
  ...over,
  options: { genres: [], moods: [], tags: [], sort: '', facets: [], key: '', mode: '', vocalType: '', ...options },
});
const classes: Record<string, () => Request> = {
  one_facet: () => base({ genre: pick(genres) }),
  three_facets: () => base({ genre: pick(genres), mood: pick(moods), language: pick(languages) }),
  facet_range: () => {
    const lo = 60 + Math.floor(r() * 120);
    return base({ genre: pick(genres), minBpm: lo, maxBpm: lo + 20 });
  },
  text: () => base({ query: pick(words) }),
  text_facet: () => base({ query: pick(words), genre: pick(genres) }),
  page_50: () => base({ genre: pick(genres.slice(0, 8)) }),
  facet_counts: () => base({ genre: pick(genres), limit: 1 }, { facets: ['mood', 'language', 'bpm'] }),
};

// The in-process service records the SQL each request runs, for the raw-SQL side; its term cache is
// on, as in the service, so the raw side replays what a warm service sends.
const inProcess = inProcessSearch(db, { termCache: true });
const fields = (req: Request) => ({ ...req, ...req.options, genres: req.options?.genres ?? [] });

interface Sample {
  request: Request;
  statements: Statement[];
}
const samples: Record<string, Sample[]> = {};
const only = args.classes ? new Set(args.classes.split(',')) : undefined;
for (const [name, make] of Object.entries(classes)) {
  if (only && !only.has(name)) continue;
  samples[name] = [];
  for (let i = 0; i < 50; i++) {
    let request = make();
    if (name === 'page_50') {
      // Walk to page 50 first (not timed); the timed request is the 50th page.
      let cursor = '';
      for (let p = 1; p < 50; p++) {
        const { page } = await inProcess.search(fields({ ...request, cursor }));
        cursor = page.nextCursor;
        if (!cursor) break;
      }
      if (!cursor) continue;
      request = { ...request, cursor };
    }
    await inProcess.search(fields(request));
    samples[name].push({ request, statements: (await inProcess.search(fields(request))).statements });
  }
}

if (process.env.BENCH_DUMP) (await import('node:fs')).writeFileSync(process.env.BENCH_DUMP, JSON.stringify(samples));
// --- the service -------------------------------------------------------------------------------
const port = await freePort();
// BENCH_SERVICE_NODE_OPTIONS (e.g. `--cpu-prof`, `--trace-gc`) go to the service's node only, as arguments:
// NODE_OPTIONS refuses some of them.
const serviceNodeArgs = (process.env.BENCH_SERVICE_NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean);
const service = spawn(process.execPath, [...nodeFlagsOf('metadata'), ...serviceNodeArgs, MAIN, 'serve'], {
  env: {
    ...process.env,
    ...metadataEnv,
    GRPC_LISTEN: `127.0.0.1:${port}`,
    // Without auth running, the service warns every second that it cannot reach it; not a finding here.
    LOG_LEVEL: 'error',
    DATABASE_POOL_SIZE: String(CONCURRENCY),
  },
  stdio: ['ignore', 2, 2],
});
// Whatever happens next, the service child does not outlive this script.
process.on('exit', () => service.kill('SIGTERM'));
// The client acts as the gateway would, with its certificate.
const client = createGrpcClient<metadataV1.MetadataServiceClient>({
  contract: METADATA_V1,
  serviceName: 'MetadataService',
  url: `127.0.0.1:${port}`,
  transport: transportSecurity(
    { GRPC_TLS_DIR: path.join(tlsRoot, 'api-gateway'), GRPC_TLS_RELOAD_MS: 60_000, GRPC_INSECURE_PLAINTEXT: false },
    'api-gateway',
  ),
});
for (let i = 0; ; i++) {
  try {
    await unary(client.service.searchTracks(base({ limit: 1 }), new Metadata(), withDeadline(1000)));
    break;
  } catch (error) {
    if (i > 100) throw error;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** CPU seconds (user + system) a process has used, from /proc; 0 once it is gone (or never started). */
function cpuSeconds(pid: number | undefined): number {
  try {
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** The postmaster and its children (backends, background workers): all of PostgreSQL's CPU. */
function postgresCpuSeconds(): number {
  const postmaster = Number(readFileSync(path.join(dataDir, 'pg/postmaster.pid'), 'utf8').split('\n')[0]);
  let total = cpuSeconds(postmaster);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1].split(' ')[1] === String(postmaster))
        total += cpuSeconds(Number(entry));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return total;
}

/** Jiffies the hypervisor gave to others while this VM wanted to run (`steal`, /proc/stat), and all jiffies. */
function stealAndTotal(): { steal: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { steal: fields[7] ?? 0, total: fields.slice(0, 8).reduce((a, b) => a + b, 0) };
}

/** CPU milliseconds per request of each process taking part: where a class's time goes on these two cores. */
interface CpuPerRequest {
  service: number;
  postgres: number;
  client: number;
  /** Share of the machine's CPU time taken by the hypervisor meanwhile (%): how noisy the run was. */
  stealPercent: number;
}

/** Every timed request, for BENCH_LATENCIES: where the tail comes from (one request, or a moment of the run). */
const timed: { class: string; side: string; request: number; start: number; ms: number }[] = [];

async function measure(
  label: { class: string; side: string; distinct: number },
  work: (i: number) => Promise<unknown>,
): Promise<{ p50: number; p95: number; p99: number; rps: number; errors: number; cpuMs: CpuPerRequest }> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const cpuBefore = {
    service: cpuSeconds(service.pid),
    postgres: postgresCpuSeconds(),
    client: process.cpuUsage(),
    machine: stealAndTotal(),
  };
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        const i = next++;
        const t = performance.now();
        try {
          await work(i);
        } catch {
          errors++;
        }
        const ms = performance.now() - t;
        latencies.push(ms);
        timed.push({
          class: label.class,
          side: label.side,
          request: i % label.distinct,
          start: Number(t.toFixed(2)),
          ms: Number(ms.toFixed(3)),
        });
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const client = process.cpuUsage(cpuBefore.client);
  const machine = stealAndTotal();
  const perRequest = (cpuSecondsUsed: number) => Number(((cpuSecondsUsed * 1000) / REQUESTS).toFixed(2));
  const cpuMs = {
    service: perRequest(cpuSeconds(service.pid) - cpuBefore.service),
    postgres: perRequest(postgresCpuSeconds() - cpuBefore.postgres),
    client: perRequest((client.user + client.system) / 1e6),
    stealPercent: Number(
      ((100 * (machine.steal - cpuBefore.machine.steal)) / Math.max(1, machine.total - cpuBefore.machine.total)).toFixed(1),
    ),
  };
  latencies.sort((a, b) => a - b);
  const q = (p: number) => Number(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(2));
  return { p50: q(0.5), p95: q(0.95), p99: q(0.99), rps: Math.round(REQUESTS / seconds), errors, cpuMs };
}

// A service that has been serving for a while has its code optimised by the JIT; a fresh child has
// not, and the first class measured would pay for it. Every class's requests, a few rounds, untimed.
if (process.env.BENCH_NO_SERVICE_WARMUP !== '1') {
  const all = Object.values(samples).flat();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < all.length * 4) {
        const s = all[next++ % all.length];
        await unary(client.service.searchTracks(s.request, new Metadata(), withDeadline(30_000)));
      }
    }),
  );
}

const rows: Record<string, unknown>[] = [];
for (const [name, list] of Object.entries(samples)) {
  // Warm both paths once, then measure: service first, raw SQL second.
  for (const s of list) await unary(client.service.searchTracks(s.request, new Metadata(), withDeadline(30_000)));
  // Prepared as the service prepares them (`statementName`): each connection parses and plans a text once.
  const replay = (st: Statement) => db.query({ name: statementName(st.sql), text: st.sql, values: st.params });
  for (const s of list) for (const st of s.statements) await replay(st);
  const viaService = await measure({ class: name, side: 'service', distinct: list.length }, (i) =>
    unary(client.service.searchTracks(list[i % list.length].request, new Metadata(), withDeadline(30_000))),
  );
  const raw = await measure({ class: name, side: 'raw', distinct: list.length }, async (i) => {
    for (const st of list[i % list.length].statements) await replay(st);
  });
  const row = {
    class: name,
    service: viaService,
    raw,
    ratioP50: Number((viaService.p50 / raw.p50).toFixed(2)),
    ratioP99: Number((viaService.p99 / raw.p99).toFixed(2)),
  };
  rows.push(row);
  log(
    `${name.padEnd(13)} service p50 ${viaService.p50} p95 ${viaService.p95} p99 ${viaService.p99} ms ${viaService.rps}/s | raw p50 ${raw.p50} p95 ${raw.p95} p99 ${raw.p99} ms ${raw.rps}/s | ratio p50 ${row.ratioP50} p99 ${row.ratioP99}`,
  );
  const cpu = (c: CpuPerRequest) => `service ${c.service}, postgres ${c.postgres}, client ${c.client} (steal ${c.stealPercent} %)`;
  log(`${''.padEnd(13)} CPU ms per request: through the service: ${cpu(viaService.cpuMs)} | raw: ${cpu(raw.cpuMs)}`);
}
result.classes = rows;
if (process.env.BENCH_LATENCIES)
  (await import('node:fs')).writeFileSync(process.env.BENCH_LATENCIES, timed.map((t) => JSON.stringify(t)).join('\n'));
result.loadAfter = load();
// The result first: nothing in the shutdown below can lose it.
process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
client.close();
service.kill('SIGTERM');
await new Promise((resolve) => service.once('exit', resolve));
await db.end();
await server.stop();
if (args.clean) await rm(dataDir, { recursive: true, force: true });
