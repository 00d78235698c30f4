// Measures what each app of a running suite uses, idle and under a light load through the gateway:
// resident memory (VmRSS, and the peak VmHWM) and CPU (utime + stime from /proc), plus the in-flight
// gauges the HorizontalPodAutoscalers scale on. The figures behind the resource requests in
// deploy/k8s (deploy/README.md, "Resources"). Linux only. Start the suite first (`npm start`), then:
//   npx node tools/resources/measure.ts [--idle 30] [--load 60] [--concurrency 8]
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { APPS, DEFAULT_OPS_PORTS, ROOT, type AppName } from '../suite/suite.ts';

const { values } = parseArgs({
  options: {
    idle: { type: 'string', default: '30' },
    load: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '8' },
    gateway: { type: 'string', default: 'http://127.0.0.1:8080' },
  },
});
const idleSeconds = Number(values.idle);
const loadSeconds = Number(values.load);
const concurrency = Number(values.concurrency);
const gateway = values.gateway;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux
const IN_FLIGHT: Record<AppName, string> = {
  'api-gateway': 'http_server_active_requests',
  auth: 'overture_rpc_server_active_calls',
  metadata: 'overture_rpc_server_active_calls',
  'playback-queue': 'overture_rpc_server_active_calls',
  recommendation: 'overture_rpc_server_active_calls',
};

/** The pid of each app of this checkout's suite, found by its main.js in /proc/<pid>/cmdline. */
function findPids(): Record<AppName, number> {
  const pids: Partial<Record<AppName, number>> = {};
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    for (const app of APPS) if (cmdline.includes(`${ROOT}/apps/${app}/dist/main.js`)) pids[app] = Number(entry);
  }
  for (const app of APPS) if (!pids[app]) throw new Error(`${app} is not running from ${ROOT}: start the suite with npm start`);
  return pids as Record<AppName, number>;
}

function memoryMiB(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

function cpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

async function inFlight(app: AppName): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${DEFAULT_OPS_PORTS[app]}/metrics`)).text();
  return Number(new RegExp(`^${IN_FLIGHT[app]} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

interface Phase {
  rssAvg: number;
  rssMax: number;
  milliCpu: number;
  inFlightAvg: number;
  inFlightMax: number;
}

/** Samples every app once a second for `seconds`. */
async function measure(pids: Record<AppName, number>, seconds: number): Promise<Record<AppName, Phase>> {
  const cpu0 = Object.fromEntries(APPS.map((app) => [app, cpuSeconds(pids[app])])) as Record<AppName, number>;
  const samples = Object.fromEntries(APPS.map((app) => [app, { rss: [] as number[], flight: [] as number[] }])) as Record<
    AppName,
    { rss: number[]; flight: number[] }
  >;
  const started = Date.now();
  for (let i = 0; i < seconds; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    for (const app of APPS) {
      samples[app].rss.push(memoryMiB(pids[app]).rss);
      samples[app].flight.push(await inFlight(app));
    }
  }
  const elapsed = (Date.now() - started) / 1_000;
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return Object.fromEntries(
    APPS.map((app) => {
      const s = samples[app];
      return [
        app,
        {
          rssAvg: avg(s.rss),
          rssMax: Math.max(...s.rss),
          milliCpu: ((cpuSeconds(pids[app]) - cpu0[app]) / elapsed) * 1_000,
          inFlightAvg: avg(s.flight),
          inFlightMax: Math.max(...s.flight),
        },
      ];
    }),
  ) as Record<AppName, Phase>;
}

async function json<T>(method: string, route: string, token?: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${gateway}${route}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** A light mix a listener makes: searches, track reads, queue edits, progress reports, recommendations. */
async function load(seconds: number): Promise<{ requests: number; errors: number }> {
  const email = `measure-${process.pid}-${Date.now()}@example.com`;
  const password = 'correct horse battery staple';
  await json('POST', '/v1/auth/register', undefined, { email, password, display_name: 'Measure' });
  const { body: token } = await json<{ access_token: string }>('POST', '/v1/auth/token', undefined, {
    grant_type: 'password',
    email,
    password,
  });
  const bearer = token.access_token;
  const { body: found } = await json<{ tracks: { id: string }[] }>('GET', '/v1/search?genre=rock&limit=20', bearer);
  const ids = found.tracks.map((t) => t.id);
  const genres = ['rock', 'pop', 'jazz', 'electronic', 'hip-hop', 'classical'];
  let requests = 0;
  let errors = 0;
  const deadline = Date.now() + seconds * 1_000;
  const steps: (() => Promise<{ status: number }>)[] = [
    () => json('GET', `/v1/search?genre=${genres[requests % genres.length]}&min_bpm=90&max_bpm=150&limit=10`, bearer),
    () => json('GET', `/v1/tracks/${ids[requests % ids.length]}`, bearer),
    () => json('POST', '/v1/me/player/queue', bearer, { track_ids: [ids[requests % ids.length]] }),
    () => json('GET', '/v1/me/player/queue', bearer),
    () => json('GET', '/v1/recommendations?limit=10', bearer),
    () => json('GET', '/v1/me', bearer),
  ];
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = worker; Date.now() < deadline; i++) {
        const step = steps[i % steps.length];
        if (!step) break;
        const { status } = await step();
        requests++;
        if (status >= 500) errors++;
      }
    }),
  );
  // The queue grows by one track per add; clear it so reruns start alike.
  await json('DELETE', '/v1/me/player/queue', bearer);
  return { requests, errors };
}

const pids = findPids();
console.log(`idle ${idleSeconds} s …`);
const idle = await measure(pids, idleSeconds);
console.log(`light load ${loadSeconds} s, ${concurrency} clients …`);
const [loaded, traffic] = await Promise.all([measure(pids, loadSeconds), load(loadSeconds)]);
const peak = Object.fromEntries(APPS.map((app) => [app, memoryMiB(pids[app]).hwm])) as Record<AppName, number>;
const f = (n: number) => n.toFixed(0).padStart(6);
console.log(`\nload: ${traffic.requests} requests (${(traffic.requests / loadSeconds).toFixed(0)}/s), ${traffic.errors} answered 5xx`);
console.log(
  'app              idle RSS  idle mCPU  load RSS  load RSS max  peak (VmHWM)  load mCPU  in-flight idle  in-flight load avg/max',
);
for (const app of APPS) {
  const i = idle[app];
  const l = loaded[app];
  console.log(
    `${app.padEnd(15)} ${f(i.rssAvg)} MiB ${f(i.milliCpu)} m  ${f(l.rssAvg)} MiB ${f(l.rssMax)} MiB   ${f(peak[app])} MiB   ${f(l.milliCpu)} m  ${i.inFlightAvg.toFixed(1).padStart(10)}      ${l.inFlightAvg.toFixed(1)}/${l.inFlightMax}`,
  );
}
