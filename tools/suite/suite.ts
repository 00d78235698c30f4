// Starts the whole Overture suite as real processes: used by `npm start` and by the end-to-end tests.
// Plain erasable TypeScript so Node runs it directly (type stripping), without a build step.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@overture/database/embedded';
import { writeDevCertificates } from '@overture/grpc/dev-certificates';
import { nodeFlagsOf } from './node-flags.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export type ServiceName = 'auth' | 'metadata' | 'playback-queue' | 'recommendation';
export type AppName = ServiceName | 'api-gateway';
export const SERVICES: readonly ServiceName[] = ['auth', 'metadata', 'recommendation', 'playback-queue'];
export const APPS: readonly AppName[] = [...SERVICES, 'api-gateway'];

const DATABASE_NAMES: Record<ServiceName, string> = {
  auth: 'overture_auth',
  metadata: 'overture_metadata',
  'playback-queue': 'overture_playback',
  recommendation: 'overture_recommendation',
};

export interface SuitePorts {
  http: number;
  auth: number;
  metadata: number;
  'playback-queue': number;
  recommendation: number;
}

export const DEFAULT_PORTS: SuitePorts = { http: 8080, auth: 50051, metadata: 50052, 'playback-queue': 50053, recommendation: 50054 };

/** Each app's ops port (`/metrics`) on one machine; in containers every app uses 9464. */
export const DEFAULT_OPS_PORTS: Record<AppName, number> = {
  'api-gateway': 9460,
  auth: 9461,
  metadata: 9462,
  'playback-queue': 9463,
  recommendation: 9464,
};

export interface SuiteOptions {
  /** Per-service database URLs. */
  databaseUrls: Record<ServiceName, string>;
  ports: SuitePorts;
  /** Each app's ops port (OPS_LISTEN); extra replicas get free ones. */
  opsPorts: Record<AppName, number>;
  /** A folder per app holding its certificate (tls.crt, tls.key, ca.crt), e.g. from writeDevCertificates. */
  tlsRoot: string;
  host?: string;
  authKeyEncryptionKey?: string;
  /** Where each app's output goes; defaults to the parent's stdout with a prefix. */
  onOutput?: (app: AppName, line: string) => void;
  logLevel?: string;
  /** Extra environment per app (e.g. shorter intervals in tests). */
  extraEnv?: Partial<Record<AppName, Record<string, string>>>;
}

/** The URL of database `name` on the server of `serverUrl`. */
export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Each service's database on one server, with optional per-service overrides. */
export function databaseUrlsOn(serverUrl: string, overrides: Partial<Record<ServiceName, string>> = {}): Record<ServiceName, string> {
  const urls = {} as Record<ServiceName, string>;
  for (const service of SERVICES) urls[service] = overrides[service] ?? databaseUrl(serverUrl, DATABASE_NAMES[service]);
  return urls;
}

/** The local CA's certificates for every app in `.data/tls` (made on first use, kept across runs). */
export async function devTlsRoot(): Promise<string> {
  const root = path.join(ROOT, '.data', 'tls');
  await writeDevCertificates(root, APPS);
  return root;
}

export function newKeyEncryptionKey(): string {
  return randomBytes(32).toString('base64');
}

/** A TCP port free on loopback right now (for extra replicas). */
export function freeLocalPort(host = '127.0.0.1'): Promise<number> {
  return freePort(host);
}

/** A free loopback ops port for every app (for suites started next to others, as tests and benchmarks are). */
export async function freeOpsPorts(host = '127.0.0.1'): Promise<Record<AppName, number>> {
  const ports = {} as Record<AppName, number>;
  for (const app of APPS) ports[app] = await freeLocalPort(host);
  return ports;
}

/** An extra instance of an app next to the primary one, on a port of its own. */
export interface Replica {
  readonly app: AppName;
  /** 2, 3, …; the primary instance started by `start(app)` is replica 1. */
  readonly index: number;
  readonly port: number;
  /** `http://host:port` for a gateway, `host:port` for a gRPC service. */
  readonly url: string;
  /** Its ops port (`/metrics`). */
  readonly opsPort: number;
  readonly child: ChildProcess;
}

export interface ReplicaOptions {
  /**
   * The loopback address it listens on (API, gRPC and ops ports), as a pod has an IP of its own;
   * defaults to the suite's host. Downstream targets still come from the suite (or `env`).
   */
  host?: string;
  /** Defaults to a free port. */
  port?: number;
  /** Defaults to a free port. */
  opsPort?: number;
  /** Extra environment for this instance only (e.g. a gateway replica pointed at another service replica). */
  env?: Record<string, string>;
}

function nodeBinary(): string {
  return process.execPath;
}

function mainOf(app: AppName): string {
  return path.join(ROOT, 'apps', app, 'dist', 'main.js');
}

/** A service process: its main.js with the flags the images run it with. */
function serviceArgs(app: AppName): string[] {
  return [...nodeFlagsOf(app), mainOf(app)];
}

export class Suite {
  readonly processes = new Map<AppName, ChildProcess>();
  /** Extra instances, by `<app>#<index>`. */
  readonly replicas = new Map<string, Replica>();
  readonly options: SuiteOptions;
  private stopping = false;
  private onUnexpectedExit: ((app: AppName, code: number | null) => void) | undefined;

  constructor(options: SuiteOptions) {
    this.options = options;
  }

  get gatewayUrl(): string {
    return `http://${this.options.host ?? '127.0.0.1'}:${this.options.ports.http}`;
  }

  /** `http://host:port/metrics` of an app's primary instance. */
  metricsUrl(app: AppName): string {
    return `http://${this.options.host ?? '127.0.0.1'}:${this.options.opsPorts[app]}/metrics`;
  }

  /** The environment of an instance of `app`; `host` is the address it listens on (the suite's by default). */
  envFor(
    app: AppName,
    port?: number,
    opsPort = this.options.opsPorts[app],
    host = this.options.host ?? '127.0.0.1',
  ): Record<string, string> {
    const suiteHost = this.options.host ?? '127.0.0.1';
    const ports = port === undefined ? this.options.ports : { ...this.options.ports, [app === 'api-gateway' ? 'http' : app]: port };
    const common: Record<string, string> = {
      LOG_LEVEL: this.options.logLevel ?? 'info',
      OPS_LISTEN: `${host}:${opsPort}`,
      GRPC_TLS_DIR: path.join(this.options.tlsRoot, app),
      ...this.options.extraEnv?.[app],
    };
    const grpc = (service: ServiceName): string => `${suiteHost}:${ports[service]}`;
    const listen = `${host}:${ports[app === 'api-gateway' ? 'http' : app]}`;
    switch (app) {
      case 'api-gateway':
        return {
          ...common,
          HTTP_HOST: host,
          HTTP_PORT: String(ports.http),
          AUTH_GRPC_URL: grpc('auth'),
          METADATA_GRPC_URL: grpc('metadata'),
          PLAYBACK_GRPC_URL: grpc('playback-queue'),
          RECOMMENDATION_GRPC_URL: grpc('recommendation'),
          ...this.options.extraEnv?.[app],
        };
      case 'auth':
        return {
          GRPC_LISTEN: listen,
          DATABASE_URL: this.options.databaseUrls.auth,
          AUTH_KEY_ENCRYPTION_KEY: this.options.authKeyEncryptionKey ?? newKeyEncryptionKey(),
          ...common,
        };
      case 'metadata':
        return {
          GRPC_LISTEN: listen,
          AUTH_GRPC_URL: grpc('auth'),
          DATABASE_URL: this.options.databaseUrls.metadata,
          // Local runs only; one key for every replica, so a next page may go to any of them.
          METADATA_CURSOR_KEY: 'overture-local-suite-cursor-key-not-for-production',
          ...common,
        };
      case 'recommendation':
        return {
          GRPC_LISTEN: listen,
          AUTH_GRPC_URL: grpc('auth'),
          DATABASE_URL: this.options.databaseUrls.recommendation,
          METADATA_GRPC_URL: grpc('metadata'),
          ...common,
        };
      case 'playback-queue':
        return {
          GRPC_LISTEN: listen,
          AUTH_GRPC_URL: grpc('auth'),
          DATABASE_URL: this.options.databaseUrls['playback-queue'],
          METADATA_GRPC_URL: grpc('metadata'),
          RECOMMENDATION_GRPC_URL: grpc('recommendation'),
          ...common,
        };
    }
  }

  /** Runs `main.js <args>` of an app to completion (migrate, seed-demo); rejects on a non-zero exit. */
  async runCommand(app: ServiceName, args: string[]): Promise<void> {
    const child = spawn(nodeBinary(), [mainOf(app), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...this.envFor(app) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    this.pipe(app, child, (line) => output.push(line));
    const [code] = (await once(child, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`${app} ${args.join(' ')} exited with ${code}:\n${output.join('\n')}`);
  }

  /** Creates each service's database if needed and applies its migrations. */
  async migrate(): Promise<void> {
    for (const service of SERVICES) await this.runCommand(service, ['migrate']);
  }

  start(app: AppName): ChildProcess {
    const child = spawn(nodeBinary(), serviceArgs(app), {
      cwd: ROOT,
      env: { ...process.env, ...this.envFor(app) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.processes.set(app, child);
    this.pipe(app, child);
    child.once('exit', (code) => {
      if (this.processes.get(app) === child) this.processes.delete(app);
      if (!this.stopping && code !== 0) this.onUnexpectedExit?.(app, code);
    });
    return child;
  }

  /**
   * Starts one more instance of an app on its own port, sharing the primary's database and
   * downstreams (override them with `options.env`). Resolves once it is ready: a gateway when
   * /health/ready answers 200, a service when its port accepts connections.
   */
  async startReplica(app: AppName, index: number, options: ReplicaOptions = {}, timeoutMs = 60_000): Promise<Replica> {
    if (index < 2) throw new Error('replica 1 is the primary instance: use start(app)');
    const key = `${app}#${index}`;
    if (this.replicas.has(key)) throw new Error(`${key} is already running`);
    const host = options.host ?? this.options.host ?? '127.0.0.1';
    const port = options.port ?? (await freeLocalPort(host));
    const opsPort = options.opsPort ?? (await freeLocalPort(host));
    const child = spawn(nodeBinary(), serviceArgs(app), {
      cwd: ROOT,
      env: { ...process.env, ...this.envFor(app, port, opsPort, host), ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const url = app === 'api-gateway' ? `http://${host}:${port}` : `${host}:${port}`;
    const replica: Replica = { app, index, port, url, opsPort, child };
    this.replicas.set(key, replica);
    this.pipe(app, child);
    child.once('exit', (code) => {
      if (this.replicas.get(key)?.child === child) this.replicas.delete(key);
      if (!this.stopping && code !== 0 && code !== null) this.onUnexpectedExit?.(app, code);
    });
    if (app === 'api-gateway') await this.waitUntilReady(timeoutMs, url, () => this.replicas.get(key)?.child === child);
    else await waitForPort(host, port, timeoutMs, () => this.replicas.get(key)?.child === child);
    return replica;
  }

  /** Stops one extra instance (SIGTERM, then SIGKILL after 15 s); resolves with its exit code. */
  async stopReplica(app: AppName, index: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const key = `${app}#${index}`;
    const replica = this.replicas.get(key);
    if (!replica) return null;
    this.replicas.delete(key);
    return stopChild(replica.child, signal);
  }

  /** Starts every app, services first; resolves when the gateway reports ready. */
  async startAll(timeoutMs = 60_000): Promise<void> {
    // auth first: the other apps load its keys and access policy as they start.
    this.start('auth');
    await waitForPort(this.options.host ?? '127.0.0.1', this.options.ports.auth, timeoutMs, () => this.processes.has('auth'));
    for (const service of SERVICES) if (service !== 'auth') this.start(service);
    this.start('api-gateway');
    await this.waitUntilReady(timeoutMs);
  }

  whenAnyExitsUnexpectedly(handler: (app: AppName, code: number | null) => void): void {
    this.onUnexpectedExit = handler;
  }

  /** Polls a gateway's /health/ready (the primary's unless `url` is given) until it answers 200. */
  async waitUntilReady(timeoutMs: number, url = this.gatewayUrl, alive = () => this.processes.has('api-gateway')): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (!alive()) throw new Error(`the gateway at ${url} exited before becoming ready`);
      try {
        const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(1_000) });
        if (response.ok) return;
        last = `HTTP ${response.status}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`the gateway at ${url} was not ready within ${timeoutMs} ms (${last})`);
  }

  /** Sends SIGTERM to one app and waits for it to exit. */
  async stop(app: AppName, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.processes.get(app);
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    this.processes.delete(app);
    return stopChild(child, signal);
  }

  /** Stops the gateways first (no new requests), then the services; extra replicas with their app. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    const replicasOf = (app: AppName) =>
      [...this.replicas.values()].filter((r) => r.app === app).map((r) => this.stopReplica(app, r.index));
    await Promise.all([this.stop('api-gateway'), ...replicasOf('api-gateway')]);
    await Promise.all(SERVICES.flatMap((service) => [this.stop(service), ...replicasOf(service)]));
  }

  private pipe(app: AppName, child: ChildProcess, collect?: (line: string) => void): void {
    const write = this.options.onOutput ?? ((name: AppName, line: string) => process.stdout.write(`[${name}] ${line}\n`));
    for (const stream of [child.stdout, child.stderr]) {
      let buffer = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buffer += chunk;
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          collect?.(line);
          write(app, line);
        }
      });
    }
  }
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = once(child, 'exit') as Promise<[number | null]>;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const [code] = await exited;
  clearTimeout(timer);
  return code;
}

async function waitForPort(host: string, port: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error(`the process for ${host}:${port} exited before listening`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing listened on ${host}:${port} within ${timeoutMs} ms`);
}
