import type { LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { disableMetrics, OpsServer, startRuntimeMetrics } from '@overture/metrics';
import { acceptRequestId, REQUEST_ID_HEADER } from '@overture/tracing';
import { AccessLog } from './http/access-log.js';
import { ApiError } from './http/api-error.js';
import { rawErrorResponse } from './http/raw-response.js';
import type { IncomingMessage } from 'node:http';
import type { GatewayConfig, GatewayLive } from './gateway.config.js';
import { GatewayModule } from './gateway.module.js';
import { GatewayLifecycle } from './health/gateway-lifecycle.js';
import { setupOpenApi } from './http/openapi.js';
import { registerHttpMetrics } from './http/http-metrics.js';
import { registerRequestHooks } from './http/request-hooks.js';
import { RouteTable } from './http/route-table.js';
import { headersTooLarge, malformedRequest, requestTimeout } from './http/gateway.errors.js';

const BODY_LIMIT_BYTES = 64 * 1024;

export interface RunningGateway {
  readonly app: NestFastifyApplication;
  /** e.g. `http://127.0.0.1:8080` */
  readonly url: string;
  /** The operations port (`/metrics`; other code may add routes). */
  readonly opsServer: OpsServer;
  /** e.g. `http://0.0.0.0:9464` */
  readonly opsUrl: string;
  /**
   * Graceful stop: readiness fails at once, requests are still served for SHUTDOWN_DELAY_MS (while
   * load balancers notice), then the server closes, letting in-flight requests finish for up to
   * SHUTDOWN_GRACE_MS. Resolves when closed or when the grace ran out; calling it again returns the same promise.
   */
  shutdown(signal: string): Promise<void>;
}

/**
 * Builds the gateway app, ready to listen: Fastify, hooks, global guard/pipe/filter, OpenAPI.
 * Settings the live config can change are read from `live` on each use.
 */
export async function createGatewayApp(config: GatewayConfig, logger: LoggerService, live?: GatewayLive): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    // A slow client (headers and body dribbled in) holds a connection and its buffers for at most this long.
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    connectionTimeout: config.HTTP_CONNECTION_TIMEOUT_MS,
    // Node checks those deadlines every 30 s by default, which would let a 10 s one run to 40 s.
    http: { headersTimeout: config.HTTP_REQUEST_TIMEOUT_MS, connectionsCheckingInterval: Math.min(1_000, config.HTTP_REQUEST_TIMEOUT_MS) },
    genReqId: (request: IncomingMessage) => acceptRequestId(request.headers[REQUEST_ID_HEADER]),
    // Requests arriving while closing are answered by our hook, in the API's error shape.
    return503OnClosing: false,
    // Requests Node's HTTP parser rejects (e.g. raw non-ASCII bytes in the URL) or that time out never
    // reach Fastify's routing; answer them in the API's error shape too, instead of Fastify's default body.
    clientErrorHandler: (error, socket) => {
      if (socket.writable) socket.end(rawErrorResponse(clientErrorOf(error)));
      else socket.destroy();
    },
  });
  // JSON and forms only: a text/plain body is 415, not a string handed to the validators.
  adapter.getInstance().removeContentTypeParser('text/plain');
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.forRoot(config), adapter, { logger });
  registerHttpMetrics(adapter.getInstance());
  const accessLogSettings = {
    SLOW_REQUEST_MS: config.SLOW_REQUEST_MS,
    get ACCESS_LOG_SAMPLE_RATIO(): number {
      return live?.current.values.access_log.sample_ratio ?? config.ACCESS_LOG_SAMPLE_RATIO;
    },
  };
  registerRequestHooks(adapter.getInstance(), app.get(GatewayLifecycle), app.get(RouteTable), new AccessLog(logger, accessLogSettings));
  setupOpenApi(app);
  await app.init();
  return app;
}

export async function startGateway(config: GatewayConfig, logger: LoggerService, live?: GatewayLive): Promise<RunningGateway> {
  if (!config.METRICS_ENABLED) disableMetrics();
  startRuntimeMetrics();
  const app = await createGatewayApp(config, logger, live);
  const opsServer = new OpsServer();
  const ops = await opsServer.listen(config.OPS_LISTEN);
  await app.listen({ port: config.HTTP_PORT, host: config.HTTP_HOST });
  const url = await app.getUrl();
  const lifecycle = app.get(GatewayLifecycle);

  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string): Promise<void> => {
    stopping ??= (async () => {
      logger.log(`${signal}: not ready; closing in ${config.SHUTDOWN_DELAY_MS} ms`, 'Shutdown');
      lifecycle.beginDraining();
      await delay(config.SHUTDOWN_DELAY_MS);
      lifecycle.beginClosing();
      const closed = await closeWithin(app, config.SHUTDOWN_GRACE_MS);
      if (closed) logger.log('stopped', 'Shutdown');
      else logger.warn(`requests still in flight after ${config.SHUTDOWN_GRACE_MS} ms; stopping anyway`, 'Shutdown');
      await opsServer.close();
    })();
    return stopping;
  };
  const opsHost = ops.family === 'IPv6' ? `[${ops.address}]` : ops.address;
  return { app, url, opsServer, opsUrl: `http://${opsHost}:${ops.port}`, shutdown };
}

/** Closes the app (Fastify drains in-flight requests); false if that took longer than `graceMs`. */
async function closeWithin(app: NestFastifyApplication, graceMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), graceMs);
  });
  try {
    return await Promise.race([app.close().then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function clientErrorOf(error: Error): ApiError {
  switch ((error as { code?: string }).code) {
    case 'HPE_HEADER_OVERFLOW':
      return headersTooLarge();
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return requestTimeout();
    default:
      return malformedRequest('the request could not be parsed as HTTP (non-ASCII characters in the URL must be percent-encoded)');
  }
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
