// Telemetry benchmark: what metrics, traces and logs cost the gateway's throughput and p99. Two
// suites run side by side on fresh databases (tools/suite/gateway-ab-bench.ts):
//   on   as deployed: metrics recorded and scraped every --scrape-seconds, traces sampled at the
//        default ratio and exported over OTLP to a receiver in this process, info logs with the
//        default access-log sampling (written to pipes this process drains);
//   off  OTEL_SDK_DISABLED=true, METRICS_ENABLED=false, LOG_LEVEL=warn, no scrapes.
// The same closed-loop load goes through each gateway in turn on a read and a write. --parts turns
// on only some of metrics, traces and logs in the "on" suite, to see what each costs.
//
//   npx node tools/telemetry-bench/bench.ts [--seconds 10] [--connections 16] [--rounds 3] [--scrape-seconds 5]
//       [--parts metrics,traces,logs] [--profile <app>]
//
// Uses OVERTURE_DATABASE_URL when set, else an embedded PostgreSQL in a throwaway folder.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { runGatewayAbBench } from '../suite/gateway-ab-bench.ts';
import { APPS, type AppName } from '../suite/suite.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    'scrape-seconds': { type: 'string', default: '5' },
    parts: { type: 'string', default: 'metrics,traces,logs' },
    profile: { type: 'string' },
  },
});
const MODES = ['on', 'off'] as const;
type Mode = (typeof MODES)[number];

// What reached the telemetry back ends, to show the "on" suite really produced it.
const received = { exports: 0, exportBytes: 0, scrapes: 0, scrapeBytes: 0, logLines: { on: 0, off: 0 } };

// An OTLP/HTTP receiver that takes every export and keeps nothing, as a collector would accept it.
const receiver = createServer((request, response) => {
  let bytes = 0;
  request.on('data', (chunk: Buffer) => (bytes += chunk.length));
  request.on('end', () => {
    received.exports++;
    received.exportBytes += bytes;
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const otlpEndpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

function scrapeEvery(ms: number, urls: string[]): () => void {
  const timer = setInterval(() => {
    for (const url of urls) {
      void fetch(url)
        .then((response) => response.text())
        .then((text) => {
          received.scrapes++;
          received.scrapeBytes += text.length;
        })
        .catch(() => undefined);
    }
  }, ms);
  return () => clearInterval(timer);
}

const PARTS = ['metrics', 'traces', 'logs'] as const;
const on = new Set(args.parts.split(','));
const unknown = [...on].filter((part) => !(PARTS as readonly string[]).includes(part));
if (unknown.length > 0) throw new Error(`--parts: unknown ${unknown.join(', ')}; expected some of ${PARTS.join(',')}`);

function envOf(mode: Mode): Record<string, string> {
  const env: Record<string, string> = {};
  if (mode === 'on' && on.has('traces')) env.OTEL_EXPORTER_OTLP_ENDPOINT = otlpEndpoint;
  else env.OTEL_SDK_DISABLED = 'true';
  if (mode === 'off' || !on.has('metrics')) env.METRICS_ENABLED = 'false';
  if (mode === 'off' || !on.has('logs')) env.LOG_LEVEL = 'warn';
  return env;
}

try {
  await runGatewayAbBench<Mode>({
    name: 'telemetry',
    modes: MODES,
    env: (mode) => Object.fromEntries(APPS.map((app) => [app, envOf(mode)])),
    costOf: `cost of ${[...on].join(' + ')}`,
    logLevel: 'info',
    seconds: Number(args.seconds),
    connections: Number(args.connections),
    rounds: Number(args.rounds),
    profile: args.profile as AppName | undefined,
    onOutput: (mode) => void received.logLines[mode]++,
    beside: (mode, suite) =>
      mode === 'on' && on.has('metrics')
        ? scrapeEvery(
            Number(args['scrape-seconds']) * 1_000,
            APPS.map((app) => suite.metricsUrl(app)),
          )
        : () => undefined,
  });
  process.stdout.write(
    `\nreceived: ${received.exports} OTLP exports (${(received.exportBytes / 1024).toFixed(0)} KiB), ` +
      `${received.scrapes} scrapes (${(received.scrapeBytes / 1024).toFixed(0)} KiB), ` +
      `log lines on ${received.logLines.on}, off ${received.logLines.off}\n`,
  );
} finally {
  receiver.close();
}
