import { REQUEST_ID_HEADER, requestContext } from '@overture/tracing';
import type { FastifyInstance } from 'fastify';
import type { GatewayLifecycle } from '../health/gateway-lifecycle.js';
import { ApiError } from './api-error.js';
import { problemBody } from './problem-body.js';
import type { RouteTable } from './route-table.js';

/**
 * Fastify hooks every request passes: the request id (Fastify's `request.id`, taken from the
 * client's `x-request-id` by `genReqId`) is echoed at once, so every answer carries it, error or
 * not; the request runs inside `requestContext`, so log lines carry it; and once the server is
 * closing, requests still arriving on open connections get a prompt 503.
 */
export function registerRequestHooks(fastify: FastifyInstance, lifecycle: GatewayLifecycle, routes: RouteTable): void {
  fastify.addHook('onRoute', (route) => routes.add(route.method, route.url));

  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    if (lifecycle.closing) {
      const error = new ApiError(503, 'SHUTTING_DOWN', 'this gateway instance is shutting down; retry the request');
      void reply.status(503).header('connection', 'close').send(problemBody(error, request.id));
      return;
    }
    requestContext.run({ requestId: request.id }, done);
  });

  // The body is read on socket events, outside the context entered above: enter it again for the
  // guards, pipes and handler, which Fastify calls synchronously from this hook's `done`.
  fastify.addHook('preHandler', (request, _reply, done) => {
    requestContext.run({ requestId: request.id }, done);
  });
}
