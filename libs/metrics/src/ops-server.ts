import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderMetrics } from './fast-histogram.js';
import { metricsRegistry } from './registry.js';
import { pprofHandlers } from '@overture/profiling';

/** Answers one request of the ops port; a thrown error or rejection becomes a 500. */
export type OpsHandler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

interface OpsRoute {
  readonly method: string;
  /** The exact path, or a prefix when the route was registered as `/prefix/*`. */
  readonly path: string;
  readonly prefix: boolean;
  readonly handler: OpsHandler;
}

/**
 * The process's operations port: plain HTTP on an address of its own (`OPS_LISTEN`), never the
 * public API port, serving `GET /metrics` (Prometheus text format of `metricsRegistry`), CPU and heap
 * profiles (`/debug/pprof/profile`, `/debug/pprof/heap`) and whatever other code adds with `route`. Kubernetes Services and
 * Ingresses do not expose it; only the scraper (and an operator's port-forward) reach it.
 */
export class OpsServer {
  private readonly routes: OpsRoute[] = [];
  private server: Server | undefined;

  constructor() {
    this.route('GET', '/metrics', async (_request, response) => {
      const body = await renderMetrics();
      response.writeHead(200, { 'content-type': metricsRegistry.contentType });
      response.end(body);
    });
    for (const [path, handler] of Object.entries(pprofHandlers())) {
      this.route('GET', path, async (request, response) => {
        // A client that goes away stops the capture.
        const abort = new AbortController();
        response.on('close', () => abort.abort(new Error('client went away')));
        const answer = await handler(new URL(request.url ?? '/', 'http://ops').searchParams, abort.signal);
        response.writeHead(answer.status, answer.headers);
        response.end(answer.body);
      });
    }
  }

  /** Adds a route: `path` is exact, or ends in `/*` to take every path under it. Later routes cannot shadow earlier ones. */
  route(method: string, path: string, handler: OpsHandler): this {
    const prefix = path.endsWith('/*');
    this.routes.push({ method: method.toUpperCase(), path: prefix ? path.slice(0, -1) : path, prefix, handler });
    return this;
  }

  /** Listens on `host:port` (port 0: any free one); resolves with the address bound. */
  async listen(address: string): Promise<AddressInfo> {
    const { host, port } = parseAddress(address);
    const server = createServer((request, response) => void this.handle(request, response));
    // The ops port answers small requests from the scraper; a stuck client must not hold a socket long.
    server.requestTimeout = 10_000;
    server.headersTimeout = 10_000;
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Scrapes must not keep a draining process alive.
    server.unref();
    this.server = server;
    return server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    const matching = this.routes.filter((r) => (r.prefix ? path.startsWith(r.path) : path === r.path));
    const route = matching.find((r) => r.method === request.method || (r.method === 'GET' && request.method === 'HEAD'));
    if (!route) {
      const status = matching.length ? 405 : 404;
      if (status === 405) response.setHeader('allow', [...new Set(matching.map((r) => r.method))].join(', '));
      response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(status === 405 ? 'method not allowed\n' : 'not found\n');
      return;
    }
    try {
      await route.handler(request, response);
    } catch (error) {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
}

function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(colon + 1));
  if (colon < 1 || !Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`expected host:port, got ${JSON.stringify(address)}`);
  return { host, port };
}
