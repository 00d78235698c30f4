import { Metadata } from '@grpc/grpc-js';
import { Controller, Module } from '@nestjs/common';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { METADATA_V1, metadataV1 } from '@overture/contracts';
import { clientRpcTrace, currentTraceId, startTracing } from '@overture/tracing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createGrpcClient,
  DomainError,
  ErrorCategory,
  runGrpcService,
  transportSecurity,
  unary,
  withDeadline,
  type RunningGrpcService,
} from '../src/index.js';
import { freePort, tlsSettings } from './test-server.js';

// A file of its own: startTracing acts once per process. Ratio 0: only a sampled caller's trace is recorded.
const exporter = new InMemorySpanExporter();
const tracing = startTracing({ serviceName: 'rpc-tracing-spec', samplerRatio: 0, exporter });

// What the handler saw: the trace id its log lines carry, and the traceparent a downstream call would send.
let seen: { traceId: string | undefined; downstream: string | undefined } | undefined;

@Controller()
@metadataV1.MetadataServiceControllerMethods()
class TracedController implements metadataV1.MetadataServiceController {
  getTrack(request: metadataV1.GetTrackRequest): metadataV1.GetTrackResponse {
    if (request.trackId === 'missing') throw new DomainError(ErrorCategory.NotFound, 'TRACK_NOT_FOUND', 'no such track');
    throw new Error('a bug');
  }
  async batchGetTracks(): Promise<metadataV1.BatchGetTracksResponse> {
    await Promise.resolve();
    const downstream = clientRpcTrace('/overture.auth.v1.AuthService/GetUser');
    downstream?.end('OK');
    seen = { traceId: currentTraceId(), downstream: downstream?.traceparent };
    return { tracks: [], missingTrackIds: [] };
  }
  searchTracks(): metadataV1.SearchTracksResponse {
    return { tracks: [], nextCursor: '' };
  }
}

@Module({ controllers: [TracedController] })
class TracedModule {}

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const under = <T>(flags: '00' | '01', fn: () => T): T =>
  context.with(propagation.extract(context.active(), { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-${flags}` }), fn);

describe('gRPC calls in a trace', () => {
  let service: RunningGrpcService;
  let client: metadataV1.MetadataServiceClient;
  let close: () => void;

  beforeAll(async () => {
    const address = `127.0.0.1:${await freePort()}`;
    service = await runGrpcService({
      identity: 'metadata',
      module: TracedModule,
      contract: METADATA_V1,
      serviceNames: ['overture.metadata.v1.MetadataService'],
      settings: {
        ...tlsSettings('metadata'),
        GRPC_LISTEN: address,
        SHUTDOWN_DELAY_MS: 0,
        SHUTDOWN_GRACE_MS: 1_000,
        GRPC_REFLECTION: false,
        READINESS_EVENT_LOOP_DELAY_MS: 500,
        READINESS_EVENT_LOOP_WINDOW_MS: 10_000,
        READINESS_DB_POOL_EXHAUSTED_MS: 10_000,
      },
      logger: { log: () => undefined, error: () => undefined, warn: () => undefined },
      readiness: () => async () => undefined,
    });
    const handle = createGrpcClient<metadataV1.MetadataServiceClient>({
      contract: METADATA_V1,
      serviceName: 'MetadataService',
      url: address,
      transport: transportSecurity(tlsSettings('api-gateway'), 'api-gateway'),
    });
    client = handle.service;
    close = handle.close;
  });
  afterAll(async () => {
    close();
    await service.shutdown('test');
    await tracing.shutdown();
  });
  beforeEach(() => {
    exporter.reset();
    seen = undefined;
  });

  const batchGet = () => unary(client.batchGetTracks({ trackIds: [] }, new Metadata(), withDeadline(5_000)));

  it('records a sampled call as a CLIENT span and the SERVER span under it, and the handler continues it', async () => {
    await under('01', batchGet);
    const spans = exporter.getFinishedSpans();
    const served = spans.find((s) => s.kind === SpanKind.SERVER);
    const call = spans.find((s) => s.kind === SpanKind.CLIENT && s.name.endsWith('BatchGetTracks'));
    expect(call?.name).toBe('overture.metadata.v1.MetadataService/BatchGetTracks');
    expect(call?.spanContext().traceId).toBe(TRACE_ID);
    expect(served?.parentSpanContext?.spanId).toBe(call?.spanContext().spanId);
    expect(served?.attributes).toMatchObject({
      'rpc.system.name': 'grpc',
      'rpc.method': 'overture.metadata.v1.MetadataService/BatchGetTracks',
      'rpc.response.status_code': 'OK',
    });
    expect(seen?.traceId).toBe(TRACE_ID);
    // The handler's own downstream call hangs under its SERVER span.
    const downstream = spans.find((s) => s.name === 'overture.auth.v1.AuthService/GetUser');
    expect(downstream?.parentSpanContext?.spanId).toBe(served?.spanContext().spanId);
    expect(seen?.downstream).toBe(`00-${TRACE_ID}-${downstream?.spanContext().spanId}-01`);
  });

  it('records nothing of an unsampled call, yet its log lines and downstream calls keep the trace id', async () => {
    await under('00', batchGet);
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(seen?.traceId).toBe(TRACE_ID);
    expect(seen?.downstream).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
  });

  it("marks a server's failure as an error, and a caller's mistake not", async () => {
    await under('01', () => unary(client.getTrack({ trackId: 'missing' }, new Metadata(), withDeadline(5_000))).catch(() => undefined));
    await under('01', () => unary(client.getTrack({ trackId: 'bug' }, new Metadata(), withDeadline(5_000))).catch(() => undefined));
    const served = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
    expect(served.map((s) => [s.attributes['rpc.response.status_code'], s.status.code])).toEqual([
      ['NOT_FOUND', SpanStatusCode.UNSET],
      ['INTERNAL', SpanStatusCode.ERROR],
    ]);
  });

  it('starts no trace for a call made outside one when the ratio samples none', async () => {
    await batchGet();
    expect(exporter.getFinishedSpans()).toEqual([]);
    expect(seen?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(trace.getActiveSpan()).toBeUndefined();
  });
});
