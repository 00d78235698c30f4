import type { LoggerService } from '@nestjs/common';
import { createLogger } from '@overture/tracing';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AccessLog, accessLogLevel } from './access-log.js';

const SETTINGS = { ACCESS_LOG_SAMPLE_RATIO: 0.25, SLOW_REQUEST_MS: 1_000 };

function exchange(url: string, status: number, elapsedTime: number): [FastifyRequest, FastifyReply] {
  const request = { method: 'GET', url, ip: '198.51.100.9', routeOptions: { url: '/v1/search' } } as unknown as FastifyRequest;
  return [request, { statusCode: status, elapsedTime } as FastifyReply];
}

function recordingLogger(): LoggerService & { lines: [string, unknown][] } {
  const lines: [string, unknown][] = [];
  return {
    lines,
    log: (line: unknown) => lines.push(['info', line]),
    warn: (line: unknown) => lines.push(['warn', line]),
    error: (line: unknown) => lines.push(['error', line]),
  };
}

describe('access log', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('writes server errors and slow requests as warnings', () => {
    expect(accessLogLevel(503, 5, 1_000)).toBe('warn');
    expect(accessLogLevel(200, 1_000, 1_000)).toBe('warn');
    expect(accessLogLevel(404, 999, 1_000)).toBe('info');
  });

  it('keeps every error and slow request, and the sampled share of the rest', () => {
    const logger = recordingLogger();
    // Every draw falls outside the sample: only the lines that are always kept remain.
    const log = new AccessLog(logger, SETTINGS, () => 0.9);
    log.record(...exchange('/v1/search?q=a', 200, 3));
    log.record(...exchange('/v1/search?q=b', 401, 3));
    log.record(...exchange('/v1/search?q=c', 500, 3));
    log.record(...exchange('/v1/search?q=d', 200, 2_500));
    expect(logger.lines.map(([level, line]) => [level, (line as { path: string }).path])).toEqual([
      ['warn', '/v1/search?q=c'],
      ['warn', '/v1/search?q=d'],
    ]);

    const sampled = recordingLogger();
    const draws = [0.1, 0.3];
    const sampling = new AccessLog(sampled, SETTINGS, () => draws.shift() ?? 1);
    sampling.record(...exchange('/v1/search?q=e', 200, 3));
    sampling.record(...exchange('/v1/search?q=f', 200, 3));
    expect(sampled.lines).toEqual([
      ['info', expect.objectContaining({ method: 'GET', route: '/v1/search', path: '/v1/search?q=e', status: 200, duration_ms: 3 })],
    ]);
  });

  it('writes no token or e-mail from a query string, nor the client address when told not to', () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string) => written.push(chunk) > 0) as typeof process.stdout.write);
    vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string) => written.push(chunk) > 0) as typeof process.stderr.write);
    const logger = createLogger({ service: 'api-gateway', level: 'info', redactClientAddress: true });
    const token = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1In0.c2ln';
    new AccessLog(logger, SETTINGS, () => 0).record(...exchange(`/v1/ws?access_token=${token}&email=ann%40example.com`, 500, 3));
    expect(written).toHaveLength(1);
    expect(written[0]).not.toContain(token);
    expect(written[0]).not.toContain('ann%40example.com');
    expect(written[0]).not.toContain('198.51.100.9');
    expect(JSON.parse(written[0]!)).toMatchObject({ level: 'warn', context: 'Access', status: 500 });
  });
});
