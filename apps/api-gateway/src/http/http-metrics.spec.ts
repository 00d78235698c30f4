import { metricsRegistry } from '@overture/metrics';
import Fastify from 'fastify';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { registerHttpMetrics } from './http-metrics.js';

describe('registerHttpMetrics', () => {
  it('records requests under their route template, unknown paths as one unmatched route, and none left in flight', async () => {
    const fastify = Fastify();
    registerHttpMetrics(fastify);
    fastify.get('/v1/tracks/:id', async (request, reply) =>
      (request.params as { id: string }).id.startsWith('0') ? reply.status(404).send({}) : { ok: true },
    );
    for (let i = 0; i < 20; i++) {
      await fastify.inject({ method: 'GET', url: `/v1/tracks/${randomUUID().replace(/^./, 'a')}` });
      await fastify.inject({ method: 'GET', url: `/v1/tracks/0${randomUUID()}` });
      await fastify.inject({ method: 'GET', url: `/nope/${randomUUID()}` });
    }
    const text = await metricsRegistry.getSingleMetricAsString('http_server_request_duration_seconds');
    const counts = [...text.matchAll(/^http_server_request_duration_seconds_count\{(.*)\} (\d+)$/gm)].map(
      ([, labels, n]) => `${labels} ${n}`,
    );
    expect(counts).toEqual(
      expect.arrayContaining([
        'http_request_method="GET",http_route="/v1/tracks/:id",http_response_status_code="200" 20',
        'http_request_method="GET",http_route="/v1/tracks/:id",http_response_status_code="404" 20',
        'http_request_method="GET",http_route="unmatched",http_response_status_code="404" 20',
      ]),
    );
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect(await metricsRegistry.getSingleMetricAsString('http_server_active_requests')).toMatch(/^http_server_active_requests 0$/m);
    await fastify.close();
  });
});
