import type { LoggerService } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface AccessLogSettings {
  /** Fraction of ordinary (below 500 and fast) requests whose line is written. */
  readonly ACCESS_LOG_SAMPLE_RATIO: number;
  /** A request that took this long is slow: its line is always written. */
  readonly SLOW_REQUEST_MS: number;
}

export type AccessLogLevel = 'warn' | 'info';

/**
 * The level of a request's line: warn for a 5xx or a slow request, info otherwise. Not error: a
 * 503 while a dependency is down is the edge working as designed, and a failure of the gateway's
 * own has its error line from the problem filter already.
 */
export function accessLogLevel(status: number, durationMs: number, slowMs: number): AccessLogLevel {
  return status >= 500 || durationMs >= slowMs ? 'warn' : 'info';
}

/**
 * One line per answered request (`Access` context: method, route, path, status, duration, client
 * address), written for every 5xx and slow request and for ACCESS_LOG_SAMPLE_RATIO of the
 * others, so that the busiest log costs what its sample costs. The request id is on the line as
 * on every other; the logger removes secrets (tokens in a query string) and, when configured, the
 * client address.
 */
export class AccessLog {
  constructor(
    private readonly logger: LoggerService,
    private readonly settings: AccessLogSettings,
    // Injected for tests; Math.random is enough to pick a sample.
    private readonly random: () => number = Math.random,
  ) {}

  record(request: FastifyRequest, reply: FastifyReply): void {
    const durationMs = reply.elapsedTime;
    const level = accessLogLevel(reply.statusCode, durationMs, this.settings.SLOW_REQUEST_MS);
    if (level === 'info' && this.random() >= this.settings.ACCESS_LOG_SAMPLE_RATIO) return;
    const line = {
      msg: `${request.method} ${request.url} ${reply.statusCode}`,
      method: request.method,
      route: request.routeOptions.url,
      path: request.url,
      status: reply.statusCode,
      duration_ms: Math.round(durationMs * 10) / 10,
      client_address: request.ip,
    };
    switch (level) {
      case 'warn':
        this.logger.warn(line, 'Access');
        return;
      case 'info':
        this.logger.log(line, 'Access');
        return;
    }
  }
}
