import { HttpServerSpan, REQUEST_ID_HEADER, requestContext, type RequestContext } from '@overture/tracing';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessLog } from './access-log.js';
import type { GatewayLifecycle } from '../health/gateway-lifecycle.js';
import { problemBody } from './problem-body.js';
import { SECURITY_HEADERS } from './raw-response.js';
import type { RouteTable } from './route-table.js';
import { malformedRequest, shuttingDown } from './gateway.errors.js';

// Answers about one account (its profile, player, sessions, tokens, recommendations) and admin
// answers about others: no cache on the way may keep them.
const PERSONAL_PATH = /^\/v1\/(me|auth|admin|recommendations)(\/|\?|$)/;

/** How many times `name` (lower case) occurs in Node's raw header list (name, value, name, value…). */
export function headerCount(rawHeaders: readonly string[], name: string): number {
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const header = rawHeaders[i] ?? '';
    if (header.length === name.length && header.toLowerCase() === name) count++;
  }
  return count;
}

/**
 * Fastify hooks every request passes: the request id (Fastify's `request.id`, taken from the
 * client's `x-request-id` by `genReqId`) is echoed at once, so every answer carries it, error or
 * not; every answer is `nosniff`, and answers with personal data `no-store`; the request runs inside
 * `requestContext`, so log lines carry it; once the server is closing, requests still arriving on
 * open connections get a prompt 503; a request with more than one Authorization header is 400;
 * each request has its trace span (HttpServerSpan, active for the handler, continuing the client's
 * `traceparent`); and each answered request goes to the access log (sampled; see AccessLog), in its
 * context.
 */
export function registerRequestHooks(
  fastify: FastifyInstance,
  lifecycle: GatewayLifecycle,
  routes: RouteTable,
  accessLog: AccessLog,
): void {
  fastify.addHook('onRoute', (route) => routes.add(route.method, route.url));
  fastify.decorateRequest('overtureContext', undefined);
  fastify.decorateRequest('overtureSpan', undefined);

  fastify.addHook('onRequest', (request, reply, done) => {
    request.overtureSpan = HttpServerSpan.start(request.method, request.routeOptions.url, request.headers);
    void reply.header(REQUEST_ID_HEADER, request.id).headers(SECURITY_HEADERS);
    if (PERSONAL_PATH.test(request.url)) void reply.header('cache-control', 'no-store');
    if (lifecycle.closing) {
      const error = shuttingDown('this gateway instance is shutting down; retry the request');
      void reply.status(503).header('connection', 'close').send(problemBody(error, request.id));
      return;
    }
    if (request.headers.authorization !== undefined && headerCount(request.raw.rawHeaders, 'authorization') > 1) {
      // Node keeps only the first; a proxy or cache in front may have used another.
      const error = malformedRequest('send one Authorization header, not several');
      void reply.status(400).send(problemBody(error, request.id));
      return;
    }
    requestContext.run(contextOf(request), inSpan, request, done);
  });

  // The body is read on socket events, outside the contexts entered above: enter them again for the
  // guards, pipes and handler, which Fastify calls synchronously from this hook's `done`.
  fastify.addHook('preHandler', (request, _reply, done) => {
    requestContext.run(contextOf(request), inSpan, request, done);
  });

  fastify.addHook('onResponse', (request, reply, done) => {
    request.overtureSpan?.end(reply.statusCode, reply.elapsedTime, spanAttributes, request);
    requestContext.run(contextOf(request), recordAccess, accessLog, request, reply);
    done();
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's context (request id), made once and entered by each hook that needs it. */
    overtureContext: RequestContext | undefined;
    /** The request's trace span, from its first hook to its last. */
    overtureSpan: HttpServerSpan | undefined;
  }
}

function inSpan(request: FastifyRequest, done: () => void): void {
  if (request.overtureSpan) request.overtureSpan.run(done);
  else done();
}

// Built only for a span that is exported (OpenTelemetry HTTP semantic conventions); the exporter
// removes secrets from the query.
function spanAttributes(request: FastifyRequest): Record<string, string> {
  const query = request.url.indexOf('?');
  return {
    'http.request.method': request.method,
    'http.route': request.routeOptions.url ?? '',
    'url.path': query < 0 ? request.url : request.url.slice(0, query),
    'url.query': query < 0 ? '' : request.url.slice(query + 1),
    'client.address': request.ip,
  };
}

function contextOf(request: FastifyRequest): RequestContext {
  return (request.overtureContext ??= { requestId: request.id });
}

function recordAccess(accessLog: AccessLog, request: FastifyRequest, reply: Parameters<AccessLog['record']>[1]): void {
  accessLog.record(request, reply);
}
