// Playback benchmark: queue operation latency through the gateway at a fixed rate, push latency
// from an operation on device A to the event on device B (on another gateway replica, whose
// playback-queue replica is another one too), and the memory of one gateway holding many idle
// WebSocket connections. Starts its own suite (fresh databases) and stops it at the end.
//
//   tools/playback-bench/bench.sh [--rate 100] [--seconds 10] [--users 20] [--push-rate 20] [--push-seconds 15] [--connections 10000]
//
// Uses OVERTURE_DATABASE_URL when set, else an embedded PostgreSQL in .data/bench-postgres.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startEmbeddedPostgres, type EmbeddedServer } from '@overture/database/embedded';
import pg from 'pg';
import WebSocket from 'ws';
import { devTlsRoot, ROOT, SERVICES, Suite, databaseUrl, freeLocalPort, type ServiceName, freeOpsPorts } from '../suite/suite.ts';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '10' },
    users: { type: 'string', default: '20' },
    'push-rate': { type: 'string', default: '20' },
    'push-seconds': { type: 'string', default: '15' },
    connections: { type: 'string', default: '10000' },
  },
});
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const USERS = Number(args.users);
const PUSH_RATE = Number(args['push-rate']);
const PUSH_SECONDS = Number(args['push-seconds']);
const CONNECTIONS = Number(args.connections);

const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(name: string, samples: number[], errors: number, seconds: number): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const f = (v: number) => v.toFixed(1).padStart(7);
  return `${name.padEnd(34)} n=${String(samples.length).padStart(5)} err=${String(errors).padStart(3)}  p50 ${f(percentile(sorted, 50))} ms  p95 ${f(percentile(sorted, 95))} ms  p99 ${f(percentile(sorted, 99))} ms  max ${f(sorted.at(-1) ?? Number.NaN)} ms  ${(samples.length / seconds).toFixed(0)}/s`;
}

/**
 * Open-loop load: `op` is started every 1/rate s for `seconds`, whatever earlier ones are doing,
 * and each latency counts from the moment it was due (no coordinated omission).
 */
async function atFixedRate(
  rate: number,
  seconds: number,
  op: (i: number) => Promise<boolean>,
): Promise<{ samples: number[]; errors: number }> {
  const samples: number[] = [];
  let errors = 0;
  failures.clear();
  const total = Math.round(rate * seconds);
  const start = performance.now() + 50;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(
      op(i).then(
        (ok) => {
          if (ok) samples.push(performance.now() - due);
          else errors++;
        },
        () => {
          errors++;
        },
      ),
    );
  }
  await Promise.all(pending);
  return { samples, errors };
}

/** Unexpected answers of the current phase, by status and reason. */
const failures = new Map<string, number>();
function noteFailure(status: number, body: Record<string, unknown>): void {
  const key = `${status} ${(body.error as { reason?: string } | undefined)?.reason ?? ''}`;
  failures.set(key, (failures.get(key) ?? 0) + 1);
}
function failureLine(): string {
  return failures.size ? `   unexpected answers: ${[...failures].map(([k, n]) => `${k} ×${n}`).join(', ')}` : '';
}

function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Number(line?.split(/\s+/)[1] ?? Number.NaN);
}

async function main(): Promise<void> {
  let embedded: EmbeddedServer | undefined;
  let serverUrl = process.env.OVERTURE_DATABASE_URL;
  if (!serverUrl) {
    embedded = await startEmbeddedPostgres({ dataDir: path.join(ROOT, '.data', 'bench-postgres'), port: await freeLocalPort() });
    serverUrl = embedded.url;
  }
  const names = Object.fromEntries(SERVICES.map((s) => [s, `bench_${process.pid}_${s.replace('-', '_')}`])) as Record<ServiceName, string>;
  const databaseUrls = Object.fromEntries(SERVICES.map((s) => [s, databaseUrl(serverUrl, names[s])])) as Record<ServiceName, string>;
  const suite = new Suite({
    opsPorts: await freeOpsPorts(),
    tlsRoot: await devTlsRoot(),
    databaseUrls,
    ports: {
      http: await freeLocalPort(),
      auth: await freeLocalPort(),
      metadata: await freeLocalPort(),
      'playback-queue': await freeLocalPort(),
      recommendation: await freeLocalPort(),
    },
    logLevel: 'warn',
    onOutput: (app, line) => {
      if (/"level":"(error|fatal)"/.test(line)) process.stderr.write(`[${app}] ${line}\n`);
    },
  });
  try {
    say(
      `starting the suite (load before: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')})`,
    );
    await suite.migrate();
    await suite.runCommand('metadata', ['seed-demo', '500']);
    await suite.startAll();
    const playback2 = await suite.startReplica('playback-queue', 2);
    const gateway2 = await suite.startReplica('api-gateway', 2, { env: { PLAYBACK_GRPC_URL: playback2.url } });
    const gateway1 = suite.gatewayUrl;

    const request = async (
      base: string,
      method: string,
      url: string,
      token?: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ) => {
      const response = await fetch(`${base}${url}`, {
        method,
        headers: {
          ...headers,
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await response.text();
      const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      if (response.status >= 400 && response.status !== 404) noteFailure(response.status, parsed);
      return { status: response.status, body: parsed };
    };
    const signUp = async (name: string): Promise<string> => {
      const email = `${name}-${process.pid}@example.com`;
      const password = 'correct horse battery';
      await request(gateway1, 'POST', '/v1/auth/register', undefined, { email, password, display_name: name });
      const issued = await request(gateway1, 'POST', '/v1/auth/token', undefined, { grant_type: 'password', email, password });
      if (typeof issued.body.access_token !== 'string') throw new Error(`sign-in failed: ${JSON.stringify(issued.body)}`);
      return issued.body.access_token;
    };

    // Memory first, while the gateway is fresh: later phases grow its heap, which would hide the sockets' share.
    say(`\n== memory of one gateway holding ${CONNECTIONS} idle WebSocket connections ==`);
    const gatewayPid = suite.processes.get('api-gateway')?.pid;
    if (gatewayPid === undefined) throw new Error('api-gateway is not running');
    const idleTokens: string[] = [];
    for (let i = 0; i < 10; i++) idleTokens.push(await signUp(`idle-${i}`));
    const settledRss = async (): Promise<number> => {
      // The highest of a few samples a second apart, once allocations have settled.
      let rss = 0;
      for (let i = 0; i < 3; i++) {
        await sleep(1_000);
        rss = Math.max(rss, rssKiB(gatewayPid));
      }
      return rss;
    };
    const before = await settledRss();
    const clients = spawn(
      process.execPath,
      [path.join(ROOT, 'tools/playback-bench/idle-clients.ts'), gateway1, String(CONNECTIONS), idleTokens.join(',')],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const [opened] = (await once(clients.stdout, 'data')) as [Buffer];
    const report = JSON.parse(String(opened)) as { open: number; failed: number; ms: number };
    const after = await settledRss();
    say(`opened ${report.open} (failed ${report.failed}) in ${report.ms} ms`);
    say(
      `gateway RSS before ${(before / 1024).toFixed(1)} MiB, with the connections ${(after / 1024).toFixed(1)} MiB: ` +
        `+${((after - before) / 1024).toFixed(1)} MiB, ${(((after - before) * 1024) / Math.max(1, report.open) / 1024).toFixed(1)} KiB per connection`,
    );
    clients.stdin.end();
    await once(clients, 'exit');

    // Listeners, each with a queue of 30 items; edits go round them (a user's own edits are serialised by design).
    const search = await request(gateway1, 'GET', '/v1/search?limit=50', idleTokens[0]);
    const trackIds = (search.body.tracks as { id: string }[]).map((t) => t.id);
    const listeners: { token: string; pool: string[] }[] = [];
    for (let i = 0; i < USERS; i++) {
      const token = await signUp(`bench-${i}`);
      const seeded = await request(gateway1, 'POST', '/v1/me/player/queue', token, { track_ids: trackIds.slice(0, 30) });
      listeners.push({ token, pool: (seeded.body.items as { queue_item_id: string }[]).map((item) => item.queue_item_id) });
    }
    const pick = (pool: string[]) => pool[Math.floor(Math.random() * pool.length)];

    // Warm-up (reads and moves): connections, JIT, the JWKS and policy caches, metadata's caches.
    await atFixedRate(50, 4, async (i) => {
      const { token, pool } = listeners[i % USERS];
      if (i % 2 === 0) return (await request(gateway1, 'GET', '/v1/me/player/queue', token)).status === 200;
      return (
        (await request(gateway1, 'POST', `/v1/me/player/queue/items/${pick(pool)}/move`, token, { before_queue_item_id: null })).status ===
        200
      );
    });

    say(`\n== queue operations through the gateway, ${RATE}/s for ${SECONDS} s over ${USERS} listeners (open loop) ==`);
    const live = await atFixedRate(RATE, SECONDS, async () => (await request(gateway1, 'GET', '/health/live')).status === 200);
    say(summary('reference: GET /health/live', live.samples, live.errors, SECONDS) + failureLine());
    const read = await atFixedRate(
      RATE,
      SECONDS,
      async (i) => (await request(gateway1, 'GET', '/v1/me/player/queue', listeners[i % USERS].token)).status === 200,
    );
    say(summary('reference: GET queue (~30 items)', read.samples, read.errors, SECONDS) + failureLine());
    const edits = await atFixedRate(RATE, SECONDS, async (i) => {
      const { token, pool } = listeners[i % USERS];
      const kind = Math.floor(i / USERS) % 3;
      if (kind === 0 || pool.length < 10) {
        const added = await request(
          gateway1,
          'POST',
          '/v1/me/player/queue',
          token,
          { track_ids: [trackIds[i % trackIds.length]] },
          { 'x-device-id': 'bench' },
        );
        const items = added.body.items as { queue_item_id: string }[] | undefined;
        if (items) pool.push(items[items.length - 1].queue_item_id);
        return added.status === 201;
      }
      if (kind === 1) {
        const [item, before] = [pick(pool), pick(pool)];
        if (item === before) return true;
        const moved = await request(gateway1, 'POST', `/v1/me/player/queue/items/${item}/move`, token, { before_queue_item_id: before });
        return moved.status === 200 || moved.status === 404;
      }
      const victim = pool.splice(Math.floor(Math.random() * pool.length), 1)[0];
      const removed = await request(gateway1, 'DELETE', `/v1/me/player/queue/items/${victim}`, token);
      return removed.status === 200 || removed.status === 404;
    });
    say(summary('queue edits (add / move / remove)', edits.samples, edits.errors, SECONDS) + failureLine());

    say(
      `\n== push latency: op on device A (gateway 1 → playback-queue 1) to event on device B (gateway 2 ← playback-queue 2), ${PUSH_RATE}/s for ${PUSH_SECONDS} s ==`,
    );
    const { token, pool } = listeners[0];
    const arrivals = new Map<number, number>();
    const deviceB = new WebSocket(`${gateway2.url.replace(/^http/, 'ws')}/v1/ws`, ['overture.v1', `bearer.${token}`]);
    deviceB.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; version?: number };
      if (message.type === 'queue.changed' && message.version !== undefined) arrivals.set(message.version, performance.now());
    });
    await once(deviceB, 'message'); // ready
    const sent: { version: number; start: number; acked: number }[] = [];
    const pushOps = await atFixedRate(PUSH_RATE, PUSH_SECONDS, async (i) => {
      const start = performance.now();
      const response =
        i % 2 === 0
          ? await request(
              gateway1,
              'POST',
              '/v1/me/player/queue',
              token,
              { track_ids: [trackIds[i % trackIds.length]] },
              { 'x-device-id': 'phone' },
            )
          : await request(gateway1, 'POST', `/v1/me/player/queue/items/${pick(pool)}/move`, token, { before_queue_item_id: null });
      if (typeof response.body.version !== 'number') return false;
      sent.push({ version: response.body.version, start, acked: performance.now() });
      return true;
    });
    const deadline = Date.now() + 5_000;
    while (sent.some((s) => !arrivals.has(s.version)) && Date.now() < deadline) await sleep(20);
    const delivered = sent.flatMap((s) => {
      const at = arrivals.get(s.version);
      return at === undefined ? [] : [{ ...s, at }];
    });
    const missing = sent.length - delivered.length;
    say(
      summary(
        'A request start → B event',
        delivered.map((s) => s.at - s.start),
        missing + pushOps.errors,
        PUSH_SECONDS,
      ) + failureLine(),
    );
    say(
      summary(
        'A response received → B event',
        delivered.map((s) => s.at - s.acked),
        missing,
        PUSH_SECONDS,
      ),
    );
    say(`   events missing: ${missing} of ${sent.length}; negative "after response" values: the event beat the HTTP answer`);

    // Heartbeats: a small transaction and no catalogue lookup, so the push path shows more plainly;
    // the state's updated_at (server clock, same machine) marks the change itself.
    const started = await request(gateway1, 'POST', '/v1/me/player/next', token, { device_id: 'phone' });
    const item = (started.body.item as { queue_item_id: string }).queue_item_id;
    const stateArrivals = new Map<number, { at: number; sinceChange: number }>();
    deviceB.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string; version?: number; state?: { updated_at: string } | null };
      if (message.type === 'player.state_changed' && message.version !== undefined && message.state) {
        stateArrivals.set(message.version, { at: performance.now(), sinceChange: Date.now() - Date.parse(message.state.updated_at) });
      }
    });
    const beats: { version: number; start: number }[] = [];
    const beatOps = await atFixedRate(PUSH_RATE, PUSH_SECONDS, async (i) => {
      const start = performance.now();
      const response = await request(gateway1, 'POST', '/v1/me/player/progress', token, {
        device_id: 'phone',
        queue_item_id: item,
        position_ms: Math.min(100 * i, 10_000),
        is_playing: true,
        client_timestamp_ms: i + 1,
      });
      if (typeof response.body.version !== 'number' || response.body.applied !== true) return false;
      beats.push({ version: response.body.version, start });
      return true;
    });
    const beatDeadline = Date.now() + 5_000;
    while (beats.some((b) => !stateArrivals.has(b.version)) && Date.now() < beatDeadline) await sleep(20);
    const beatDelivered = beats.flatMap((b) => {
      const arrival = stateArrivals.get(b.version);
      return arrival ? [{ ...b, arrival }] : [];
    });
    say(
      summary(
        'heartbeat request start → B event',
        beatDelivered.map((b) => b.arrival.at - b.start),
        beats.length - beatDelivered.length + beatOps.errors,
        PUSH_SECONDS,
      ) + failureLine(),
    );
    say(
      summary(
        'state change (server time) → B event',
        beatDelivered.map((b) => b.arrival.sinceChange),
        0,
        PUSH_SECONDS,
      ),
    );
    deviceB.close();
    say(
      `\nload average after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (2 cores, shared)`,
    );
  } finally {
    await suite.stopAll();
    const admin = new pg.Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
    await admin.connect();
    for (const name of Object.values(names)) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    await embedded?.stop();
  }
}

await main();
