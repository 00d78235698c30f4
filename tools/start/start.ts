// `npm start`: the whole suite on one machine. With no database configured it runs an embedded
// PostgreSQL in .data/postgres; with OVERTURE_DATABASE_URL (a server URL; one database per service is
// created on it) or per-service *_DATABASE_URL variables it uses those instead.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedServer } from '@overture/database/embedded';
import {
  APPS,
  DEFAULT_OPS_PORTS,
  DEFAULT_PORTS,
  ROOT,
  Suite,
  databaseUrlsOn,
  devTlsRoot,
  newKeyEncryptionKey,
  type AppName,
  type ServiceName,
} from '../suite/suite.ts';

const DATA_DIR = path.join(ROOT, '.data');
const COLORS: Record<AppName, string> = {
  'api-gateway': '\x1b[36m',
  auth: '\x1b[35m',
  metadata: '\x1b[33m',
  'playback-queue': '\x1b[32m',
  recommendation: '\x1b[34m',
};

function say(message: string): void {
  process.stdout.write(`\x1b[1moverture\x1b[0m ${message}\n`);
}

/** One readable line from an app's JSON log line (plain lines pass through). */
function render(app: AppName, line: string): void {
  let text = line;
  try {
    const entry = JSON.parse(line) as { level?: string; context?: string; msg?: string; err?: { stack?: string } };
    text = `${entry.level ?? ''} ${entry.context ? `[${entry.context}] ` : ''}${entry.msg ?? ''}${entry.err?.stack ? `\n${entry.err.stack}` : ''}`;
  } catch {
    // not JSON: print as is
  }
  process.stdout.write(`${COLORS[app]}${app.padEnd(14)}\x1b[0m ${text}\n`);
}

async function keyEncryptionKey(): Promise<string> {
  if (process.env.AUTH_KEY_ENCRYPTION_KEY) return process.env.AUTH_KEY_ENCRYPTION_KEY;
  // Kept across runs, so signing keys stored (encrypted) by earlier runs still decrypt.
  const file = path.join(DATA_DIR, 'auth-key-encryption-key');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const key = newKeyEncryptionKey();
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return key;
}

async function main(): Promise<void> {
  await mkdir(DATA_DIR, { recursive: true });
  const env = process.env;
  const overrides: Partial<Record<ServiceName, string>> = {
    auth: env.AUTH_DATABASE_URL,
    metadata: env.METADATA_DATABASE_URL,
    'playback-queue': env.PLAYBACK_DATABASE_URL,
    recommendation: env.RECOMMENDATION_DATABASE_URL,
  };
  const allOverridden = Object.values(overrides).every(Boolean);
  let embedded: EmbeddedServer | undefined;
  let serverUrl = env.OVERTURE_DATABASE_URL;
  if (!serverUrl && !allOverridden) {
    say('no database configured: starting embedded PostgreSQL in .data/postgres');
    const port = Number(env.OVERTURE_EMBEDDED_PG_PORT ?? 54329);
    try {
      embedded = await startEmbeddedPostgres({ dataDir: path.join(DATA_DIR, 'postgres'), port });
    } catch (error) {
      say(
        `cannot start the embedded PostgreSQL: ${(error as Error).message}. ` +
          `Set OVERTURE_DATABASE_URL to a PostgreSQL server you run instead (or OVERTURE_EMBEDDED_PG_PORT, if port ${port} is taken).`,
      );
      process.exit(1);
    }
    serverUrl = embedded.url;
  } else {
    say(`using the configured PostgreSQL server${allOverridden ? 's' : ''}`);
  }

  const suite = new Suite({
    // The apps speak mutual TLS to each other: a local CA in .data/tls issues each its certificate.
    tlsRoot: await devTlsRoot(),
    databaseUrls: databaseUrlsOn(serverUrl ?? 'postgres://unused/postgres', overrides),
    ports: {
      http: Number(env.HTTP_PORT ?? DEFAULT_PORTS.http),
      auth: DEFAULT_PORTS.auth,
      metadata: DEFAULT_PORTS.metadata,
      'playback-queue': DEFAULT_PORTS['playback-queue'],
      recommendation: DEFAULT_PORTS.recommendation,
    },
    opsPorts: DEFAULT_OPS_PORTS,
    authKeyEncryptionKey: await keyEncryptionKey(),
    onOutput: render,
    logLevel: env.LOG_LEVEL ?? 'info',
  });

  let shuttingDown = false;
  const shutdown = async (code: number): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    say('stopping…');
    await suite.stopAll();
    await embedded?.stop();
    say('stopped');
    process.exit(code);
  };
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  process.once('SIGHUP', () => void shutdown(0));
  suite.whenAnyExitsUnexpectedly((app, code) => {
    say(`${app} exited unexpectedly (code ${code}); stopping the suite`);
    void shutdown(1);
  });

  try {
    say('creating databases and applying migrations');
    await suite.migrate();
    say('loading the demo catalogue (idempotent)');
    await suite.runCommand('metadata', ['seed-demo', env.OVERTURE_DEMO_TRACKS ?? '3000']);
    say('starting auth, metadata, recommendation, playback-queue, api-gateway');
    await suite.startAll();
  } catch (error) {
    say(`failed to start: ${(error as Error).message}`);
    await shutdown(1);
    return;
  }

  const url = suite.gatewayUrl;
  say(`ready: gateway at ${url}  (OpenAPI: ${url}/docs)  — Ctrl-C stops everything`);
  say(`metrics (Prometheus text, ops ports):\n${APPS.map((app) => `  ${app.padEnd(15)} ${suite.metricsUrl(app)}`).join('\n')}`);
  say(
    `try:\n  curl -s -X POST ${url}/v1/auth/register -H 'content-type: application/json' \\\n    -d '{"email":"ada@example.com","password":"correct horse battery","display_name":"Ada"}'`,
  );
}

await main();
