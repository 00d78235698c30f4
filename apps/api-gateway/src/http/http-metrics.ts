import { DURATION_BUCKETS, fastHistogram, gauge, metricsEnabled, type HistogramChild } from '@overture/metrics';
import type { FastifyInstance } from 'fastify';

/** The `http_route` of requests no route matched: their paths are the client's to choose. */
export const UNMATCHED_ROUTE = 'unmatched';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

const durations = fastHistogram({
  name: 'http_server_request_duration_seconds',
  help: 'Duration of HTTP requests served, by method, route template and status code.',
  labelNames: ['http_request_method', 'http_route', 'http_response_status_code'],
  buckets: DURATION_BUCKETS,
});

const IN_FLIGHT = 'overtureInFlight';

declare module 'fastify' {
  interface FastifyRequest {
    [IN_FLIGHT]: boolean;
  }
}

let active = 0;
gauge({
  name: 'http_server_active_requests',
  help: 'HTTP requests being served right now.',
  collect() {
    this.set(active);
  },
});

// The series of a route, by method then status code: after the first request of each, recording
// one costs three map lookups and no allocation.
const children = new Map<string, Map<string, Map<number, HistogramChild>>>();

function childOf(route: string, method: string, statusCode: number): HistogramChild {
  let byMethod = children.get(route);
  if (!byMethod) children.set(route, (byMethod = new Map()));
  let byStatus = byMethod.get(method);
  if (!byStatus) byMethod.set(method, (byStatus = new Map()));
  let child = byStatus.get(statusCode);
  if (!child) {
    const methodLabel = KNOWN_METHODS.has(method) ? method : '_OTHER';
    byStatus.set(statusCode, (child = durations.child(methodLabel, route, String(statusCode))));
  }
  return child;
}

/**
 * Records every request Fastify routes in `http_server_request_duration_seconds` (from arrival to
 * the response sent, Fastify's `reply.elapsedTime`) under its route template (`/v1/tracks/:id`), or
 * `unmatched` when no route matched, and counts requests in flight. Requests Node's HTTP parser
 * refuses before Fastify sees them, and WebSocket upgrades, are not HTTP requests here.
 */
export function registerHttpMetrics(fastify: FastifyInstance): void {
  if (!metricsEnabled()) return;
  // Whether the request is counted in flight: a client that goes away before the response is sent
  // ends it with onRequestAbort and no onResponse, or with both.
  fastify.decorateRequest(IN_FLIGHT, false);
  fastify.addHook('onRequest', (request, _reply, done) => {
    active++;
    request[IN_FLIGHT] = true;
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    if (request[IN_FLIGHT]) active--;
    request[IN_FLIGHT] = false;
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    if (request[IN_FLIGHT]) active--;
    request[IN_FLIGHT] = false;
    const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
    childOf(route, request.method, reply.statusCode).observe(reply.elapsedTime / 1_000);
    done();
  });
}
