// Proves the database role split of deploy/postgres/roles.sql against a real PostgreSQL server: for
// each service it creates a database with a migration role and an app role (running that very file
// with psql), applies the migrations and loads a demo catalogue as the migrators, starts the whole
// suite on the app roles and drives it through the gateway as a client would, then checks that no
// app role can change the schema or create databases. Everything it made is dropped at the end.
// Needs the apps built (npx nx run-many -t build) and psql. Usage:
//   npx node tools/db-roles/check.ts [admin-url]    (default postgres://postgres@127.0.0.1:5432/postgres)
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeDevCertificates } from '@overture/grpc/dev-certificates';
import pg from 'pg';
import { APPS, freeLocalPort, freeOpsPorts, newKeyEncryptionKey, ROOT, SERVICES, Suite, type ServiceName } from '../suite/suite.ts';

const INSUFFICIENT_PRIVILEGE = '42501';
const adminUrl = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const run = `${process.pid}_${Date.now().toString(36)}`;
const output: string[] = [];
let passed = 0;
const failures: string[] = [];

function check(what: string, ok: boolean, detail = ''): void {
  if (ok) passed++;
  else failures.push(`${what}${detail ? `: ${detail}` : ''}`);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${!ok && detail ? ` (${detail})` : ''}`);
}

interface ServiceRoles {
  db: string;
  migrator: string;
  app: string;
  migratorUrl: string;
  appUrl: string;
}

function roleUrl(user: string, password: string, db: string): string {
  const url = new URL(adminUrl);
  url.username = user;
  url.password = password;
  url.pathname = `/${db}`;
  return url.toString();
}

function createRoles(service: ServiceName): ServiceRoles {
  const db = `t_roles_${service.replace('-', '_')}_${run}`;
  const [migrator, app] = [`${db}_migrator`, `${db}_app`];
  const [migratorPassword, appPassword] = [randomBytes(12).toString('hex'), randomBytes(12).toString('hex')];
  const vars = { db, migrator, app, migrator_password: migratorPassword, app_password: appPassword };
  const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...Object.entries(vars).flatMap(([k, v]) => ['-v', `${k}=${v}`])];
  const result = spawnSync('psql', [...args, '-d', adminUrl, '-f', path.join(ROOT, 'deploy/postgres/roles.sql')], { encoding: 'utf8' });
  if (result.error) throw new Error(`cannot run psql (${result.error.message}): install the PostgreSQL client`);
  if (result.status !== 0) throw new Error(`roles.sql failed for ${service}:\n${result.stderr}`);
  return { db, migrator, app, migratorUrl: roleUrl(migrator, migratorPassword, db), appUrl: roleUrl(app, appPassword, db) };
}

async function dropAll(roles: ServiceRoles[]): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    for (const r of roles) {
      await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(r.db)} WITH (FORCE)`);
      for (const role of [r.app, r.migrator]) await admin.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`);
    }
  } finally {
    await admin.end();
  }
}

/** The SQLSTATE a statement fails with as `url`'s role, or 'ok'. */
async function outcome(url: string, sql: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query(sql);
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** One gateway request; the answer's body is taken to be `T` (the steps below check what they use). */
async function call<T = Record<string, unknown>>(
  base: string,
  method: string,
  route: string,
  token?: string,
  body?: unknown,
): Promise<{ status: number; json: T | undefined }> {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as T) : undefined };
}

/** Whether recommendation's play_events gets a row within 20 s (read as the admin). */
async function playEventsArrive(db: string): Promise<boolean> {
  const url = new URL(adminUrl);
  url.pathname = `/${db}`;
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
      const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM play_events');
      if ((rows[0]?.n ?? 0) > 0) return true;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return false;
  } finally {
    await admin.end();
  }
}

/** A listener's path through the gateway: each step reads or writes one service's tables as its app role. */
async function driveAsClient(suite: Suite, recommendationDb: string): Promise<void> {
  const base = suite.gatewayUrl;
  const email = `roles-${run}@example.com`;
  const password = 'correct horse battery staple';
  const registered = await call(base, 'POST', '/v1/auth/register', undefined, { email, password, display_name: 'Roles' });
  check('auth: register (insert as app role)', registered.status < 300, `HTTP ${registered.status}`);
  const token = await call<{ access_token: string }>(base, 'POST', '/v1/auth/token', undefined, {
    grant_type: 'password',
    email,
    password,
  });
  check('auth: sign in (session rows, signing key read)', token.status === 200, `HTTP ${token.status}`);
  const bearer = token.json?.access_token ?? '';
  const search = await call<{ tracks: { id: string }[] }>(base, 'GET', '/v1/search?limit=3', bearer);
  const ids = (search.json?.tracks ?? []).map((t) => t.id);
  check('metadata: search the catalogue the migrator loaded', search.status === 200 && ids.length > 0, `HTTP ${search.status}`);
  const queued = await call(base, 'POST', '/v1/me/player/queue', bearer, { track_ids: ids });
  check('playback-queue: add to the queue', queued.status < 300, `HTTP ${queued.status}`);
  const next = await call<{ item?: { queue_item_id: string } }>(base, 'POST', '/v1/me/player/next', bearer, { device_id: 'phone' });
  check('playback-queue: next (state and outbox rows)', next.status === 200, `HTTP ${next.status}`);
  const item = next.json?.item?.queue_item_id;
  const progress = await call(base, 'POST', '/v1/me/player/progress', bearer, {
    device_id: 'phone',
    queue_item_id: item,
    position_ms: 45_000,
    is_playing: true,
  });
  check('playback-queue: progress report', progress.status < 300, `HTTP ${progress.status}`);
  const recommendations = await call(base, 'GET', '/v1/recommendations?limit=3', bearer);
  check('recommendation: recommendations', recommendations.status === 200, `HTTP ${recommendations.status}`);
  // The outbox relay delivers the play to recommendation (its ingestion writes as its app role).
  const deadline = Date.now() + 20_000;
  type History = { items: unknown[] };
  let history = await call<History>(base, 'GET', '/v1/me/player/recently-played?limit=5', bearer);
  while (history.status === 200 && (history.json?.items ?? []).length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    history = await call<History>(base, 'GET', '/v1/me/player/recently-played?limit=5', bearer);
  }
  check('playback-queue: play history', history.status === 200 && (history.json?.items ?? []).length > 0, `HTTP ${history.status}`);
  check('recommendation: the play arrived through the outbox', await playEventsArrive(recommendationDb), 'no play_events row in 20 s');
  await suite.runCommand('auth', ['grant-role', email, 'curator']);
  check('auth: grant-role command as the app role', true);
  await suite.runCommand('auth', ['rotate-keys']);
  check('auth: rotate-keys command as the app role', true);
}

async function main(): Promise<void> {
  const roles: Partial<Record<ServiceName, ServiceRoles>> = {};
  const tlsRoot = await mkdtemp(path.join(tmpdir(), 'overture-db-roles-'));
  let suite: Suite | undefined;
  try {
    for (const service of SERVICES) roles[service] = createRoles(service);
    const made = roles as Record<ServiceName, ServiceRoles>;
    const urls = (pick: (r: ServiceRoles) => string) =>
      Object.fromEntries(SERVICES.map((s) => [s, pick(made[s])])) as Record<ServiceName, string>;
    await writeDevCertificates(tlsRoot, APPS);
    const options = {
      tlsRoot,
      ports: {
        http: await freeLocalPort(),
        auth: await freeLocalPort(),
        metadata: await freeLocalPort(),
        'playback-queue': await freeLocalPort(),
        recommendation: await freeLocalPort(),
      },
      opsPorts: await freeOpsPorts(),
      authKeyEncryptionKey: newKeyEncryptionKey(),
      logLevel: 'warn',
      // auth's purge of ended sessions and old rows runs every second here, so it runs as its app role too.
      extraEnv: { auth: { AUTH_PURGE_INTERVAL_SECONDS: '1' } },
      onOutput: (app: string, line: string) => output.push(`[${app}] ${line}`),
    };

    const migrators = new Suite({ ...options, databaseUrls: urls((r) => r.migratorUrl) });
    await migrators.migrate();
    check('migrate as each migration role', true);
    await migrators.runCommand('metadata', ['seed-demo', '300']);
    check('metadata seed-demo (bulk load: drops and rebuilds indexes) as the migration role', true);

    suite = new Suite({ ...options, databaseUrls: urls((r) => r.appUrl) });
    await suite.startAll();
    check('the suite starts and is ready on the app roles', true);
    await driveAsClient(suite, made.recommendation.db);

    // Background work (outbox relay, key reloads, caches) runs as the app roles too: none may be refused.
    const refused = output.filter((line) => /permission denied|must be owner/i.test(line));
    check('no app logged a refused statement', refused.length === 0, refused.slice(0, 3).join(' | '));
    for (const service of SERVICES) {
      const r = made[service];
      const denied = async (what: string, sql: string) => {
        const code = await outcome(r.appUrl, sql);
        check(`${service} app role cannot ${what}`, code === INSUFFICIENT_PRIVILEGE, `got ${code}`);
      };
      await denied('CREATE TABLE', 'CREATE TABLE app_made (id int)');
      await denied('CREATE TEMP TABLE', 'CREATE TEMP TABLE app_temp (id int)');
      await denied('DROP TABLE migrations', 'DROP TABLE migrations');
      await denied('ALTER TABLE migrations', 'ALTER TABLE migrations ADD COLUMN x int');
      await denied('CREATE SCHEMA', 'CREATE SCHEMA app_schema');
      await denied('CREATE DATABASE', `CREATE DATABASE ${pg.escapeIdentifier(`${r.db}_x`)}`);
      const migratorCreatedb = await outcome(r.migratorUrl, `CREATE DATABASE ${pg.escapeIdentifier(`${r.db}_y`)}`);
      check(`${service} migration role cannot CREATE DATABASE`, migratorCreatedb === INSUFFICIENT_PRIVILEGE, `got ${migratorCreatedb}`);
      const other = made[service === 'auth' ? 'metadata' : 'auth'];
      const appUrl = new URL(r.appUrl);
      const cross = await outcome(roleUrl(appUrl.username, decodeURIComponent(appUrl.password), other.db), 'SELECT 1');
      check(`${service} app role cannot connect to ${other.db}`, cross === INSUFFICIENT_PRIVILEGE, `got ${cross}`);
    }
  } catch (error) {
    check('no step threw', false, (error as Error).message);
    console.error(output.slice(-40).join('\n'));
  } finally {
    await suite?.stopAll();
    await dropAll(Object.values(roles));
    await rm(tlsRoot, { recursive: true, force: true });
  }
  console.log(`db-roles: ${passed} passed, ${failures.length} failed`);
  process.exitCode = failures.length ? 1 : 0;
}

await main();
