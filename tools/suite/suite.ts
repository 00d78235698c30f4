// Starts the whole Overture suite as real processes: used by `npm start` and by the end-to-end tests.
// Plain erasable TypeScript so Node runs it directly (type stripping), without a build step.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export type ServiceName = 'auth' | 'metadata' | 'playback-queue' | 'recommendation';
export type AppName = ServiceName | 'api-gateway';
export const SERVICES: readonly ServiceName[] = ['auth', 'metadata', 'recommendation', 'playback-queue'];

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

export interface SuiteOptions {
  /** Per-service database URLs. */
  databaseUrls: Record<ServiceName, string>;
  ports: SuitePorts;
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

export function newKeyEncryptionKey(): string {
  return randomBytes(32).toString('base64');
}

function nodeBinary(): string {
  return process.execPath;
}

function mainOf(app: AppName): string {
  return path.join(ROOT, 'apps', app, 'dist', 'main.js');
}

export class Suite {
  readonly processes = new Map<AppName, ChildProcess>();
  readonly options: SuiteOptions;
  private stopping = false;
  private onUnexpectedExit: ((app: AppName, code: number | null) => void) | undefined;

  constructor(options: SuiteOptions) {
    this.options = options;
  }

  get gatewayUrl(): string {
    return `http://${this.options.host ?? '127.0.0.1'}:${this.options.ports.http}`;
  }

  envFor(app: AppName): Record<string, string> {
    const host = this.options.host ?? '127.0.0.1';
    const { ports } = this.options;
    const common: Record<string, string> = { LOG_LEVEL: this.options.logLevel ?? 'info', ...this.options.extraEnv?.[app] };
    const grpc = (service: ServiceName): string => `${host}:${ports[service]}`;
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
          GRPC_LISTEN: grpc('auth'),
          DATABASE_URL: this.options.databaseUrls.auth,
          AUTH_KEY_ENCRYPTION_KEY: this.options.authKeyEncryptionKey ?? newKeyEncryptionKey(),
          ...common,
        };
      case 'metadata':
        return { GRPC_LISTEN: grpc('metadata'), DATABASE_URL: this.options.databaseUrls.metadata, ...common };
      case 'recommendation':
        return {
          GRPC_LISTEN: grpc('recommendation'),
          DATABASE_URL: this.options.databaseUrls.recommendation,
          METADATA_GRPC_URL: grpc('metadata'),
          ...common,
        };
      case 'playback-queue':
        return {
          GRPC_LISTEN: grpc('playback-queue'),
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
    const child = spawn(nodeBinary(), [mainOf(app)], {
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

  /** Starts every app, services first; resolves when the gateway reports ready. */
  async startAll(timeoutMs = 60_000): Promise<void> {
    for (const service of SERVICES) this.start(service);
    this.start('api-gateway');
    await this.waitUntilReady(timeoutMs);
  }

  whenAnyExitsUnexpectedly(handler: (app: AppName, code: number | null) => void): void {
    this.onUnexpectedExit = handler;
  }

  async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      if (!this.processes.has('api-gateway')) throw new Error('the gateway exited before becoming ready');
      try {
        const response = await fetch(`${this.gatewayUrl}/health/ready`, { signal: AbortSignal.timeout(1_000) });
        if (response.ok) return;
        last = `HTTP ${response.status}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`the gateway was not ready within ${timeoutMs} ms (${last})`);
  }

  /** Sends SIGTERM to one app and waits for it to exit. */
  async stop(app: AppName, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const child = this.processes.get(app);
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    this.processes.delete(app);
    const exited = once(child, 'exit') as Promise<[number | null]>;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const [code] = await exited;
    clearTimeout(timer);
    return code;
  }

  /** Stops the gateway first (no new requests), then the services. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    await this.stop('api-gateway');
    await Promise.all(SERVICES.map((service) => this.stop(service)));
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
