import { Metadata, status } from '@grpc/grpc-js';
import { Controller, Module } from '@nestjs/common';
import { METADATA_V1, metadataV1 } from '@overture/contracts';
import { requestContext, type RequestContext } from '@overture/tracing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  callMetadata,
  createGrpcClient,
  DomainError,
  ErrorCategory,
  readGrpcError,
  runGrpcService,
  transportSecurity,
  unary,
  withDeadline,
  type RunningGrpcService,
} from '../src/index.js';
import { freePort, tlsSettings } from './test-server.js';

// A stand-in MetadataService whose GetTrack waits until the test lets it answer.
let release: () => void = () => undefined;
let started: () => void = () => undefined;
// What a handler saw of its request context, and what a downstream call it made would carry.
let seen: { context: RequestContext | undefined; forwardedId: unknown[]; downstreamDeadline: unknown } | undefined;

@Controller()
@metadataV1.MetadataServiceControllerMethods()
class SlowMetadataController implements metadataV1.MetadataServiceController {
  async getTrack(request: metadataV1.GetTrackRequest): Promise<metadataV1.GetTrackResponse> {
    if (request.trackId === 'missing') throw new DomainError(ErrorCategory.NotFound, 'TRACK_NOT_FOUND', 'no such track');
    if (request.trackId === 'bug') throw new Error('a bug with a secret inside');
    started();
    await new Promise<void>((resolve) => (release = resolve));
    return {
      track: {
        trackId: request.trackId,
        title: 'Slow',
        artistName: '',
        albumTitle: '',
        durationMs: 1,
        isrc: '',
        releaseYear: 0,
        popularity: 0,
        explicit: false,
      },
    };
  }
  async batchGetTracks(): Promise<metadataV1.BatchGetTracksResponse> {
    await Promise.resolve();
    seen = {
      context: requestContext.get(),
      forwardedId: callMetadata().get('x-request-id'),
      downstreamDeadline: withDeadline(60_000).deadline,
    };
    return { tracks: [], missingTrackIds: [] };
  }
  searchTracks(): metadataV1.SearchTracksResponse {
    return { tracks: [], nextCursor: '' };
  }
}

@Module({ controllers: [SlowMetadataController] })
class SlowModule {}

const silent = { log: () => undefined, error: () => undefined, warn: () => undefined };

describe('runGrpcService', () => {
  let service: RunningGrpcService | undefined;
  afterEach(async () => {
    release();
    await service?.shutdown('test');
    service = undefined;
  });

  async function start(graceMs: number, opsListen?: string) {
    const address = `127.0.0.1:${await freePort()}`;
    service = await runGrpcService({
      identity: 'metadata',
      module: SlowModule,
      contract: METADATA_V1,
      serviceNames: ['overture.metadata.v1.MetadataService'],
      settings: {
        ...tlsSettings('metadata'),
        GRPC_LISTEN: address,
        SHUTDOWN_DELAY_MS: 0,
        SHUTDOWN_GRACE_MS: graceMs,
        GRPC_REFLECTION: false,
        OPS_LISTEN: opsListen,
        READINESS_EVENT_LOOP_DELAY_MS: 500,
        READINESS_EVENT_LOOP_WINDOW_MS: 10_000,
        READINESS_DB_POOL_EXHAUSTED_MS: 10_000,
      },
      logger: silent,
      readiness: () => async () => undefined,
    });
    const client = createGrpcClient<metadataV1.MetadataServiceClient>({
      contract: METADATA_V1,
      serviceName: 'MetadataService',
      url: address,
      transport: transportSecurity(tlsSettings('api-gateway'), 'api-gateway'),
    });
    return { client: client.service, close: client.close, running: service };
  }

  it('maps domain errors to their status and reason, and hides unexpected errors as INTERNAL', async () => {
    const { client, close } = await start(1_000);
    const notFound = await unary(client.getTrack({ trackId: 'missing' }, new Metadata(), withDeadline(2_000))).catch((e: unknown) => e);
    expect(readGrpcError(notFound)).toEqual({ code: status.NOT_FOUND, details: 'no such track', reason: 'TRACK_NOT_FOUND' });
    const bug = await unary(client.getTrack({ trackId: 'bug' }, new Metadata(), withDeadline(2_000))).catch((e: unknown) => e);
    expect(readGrpcError(bug)).toEqual({ code: status.INTERNAL, details: 'internal error', reason: 'INTERNAL' });
    close();
  });

  it("serves each call in its caller's request id and deadline, which its downstream calls inherit", async () => {
    const { client, close } = await start(1_000);
    const metadata = new Metadata();
    metadata.set('x-request-id', 'req-from-gateway');
    const before = Date.now();
    await unary(client.batchGetTracks({ trackIds: [] }, metadata, { deadline: new Date(before + 5_000) }));
    expect(seen?.context?.requestId).toBe('req-from-gateway');
    // The deadline travels as a timeout (grpc-timeout) and is an instant again on arrival.
    expect(seen?.context?.deadline).toBeGreaterThan(before);
    expect(seen?.context?.deadline).toBeLessThan(before + 60_000);
    expect(seen?.forwardedId).toEqual(['req-from-gateway']);
    expect((seen?.downstreamDeadline as Date).getTime()).toBe(seen?.context?.deadline);

    await unary(client.batchGetTracks({ trackIds: [] }, new Metadata(), withDeadline(2_000)));
    expect(seen?.context?.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestContext.get()).toBeUndefined();
    close();
  });

  it('lets an in-flight call finish on shutdown, then refuses new calls', async () => {
    const { client, close, running } = await start(5_000);
    const inFlight = new Promise<void>((resolve) => (started = resolve));
    const call = unary(client.getTrack({ trackId: 'slow-1' }, new Metadata(), withDeadline(10_000)));
    await inFlight;

    const stopped = running.shutdown('SIGTERM');
    expect(running.readiness.isReady).toBe(false);
    release();
    const response = await call;
    expect(response.track?.trackId).toBe('slow-1');
    await stopped;

    const after = await unary(client.getTrack({ trackId: 'slow-2' }, new Metadata(), withDeadline(2_000))).catch((e: unknown) => e);
    expect(readGrpcError(after)?.code).toBe(status.UNAVAILABLE);
    close();
    service = undefined;
  });

  it('forces the server down when in-flight calls outlast the grace period', async () => {
    const { client, close, running } = await start(100);
    const inFlight = new Promise<void>((resolve) => (started = resolve));
    const call = unary(client.getTrack({ trackId: 'stuck' }, new Metadata(), withDeadline(10_000))).catch((e: unknown) => e);
    await inFlight;
    await running.shutdown('SIGTERM');
    expect(readGrpcError(await call)?.code).toBe(status.CANCELLED);
    close();
    service = undefined;
  });

  it('records each call on both sides by full method and status name, served on the ops port', async () => {
    const opsPort = await freePort();
    const { client, close, running } = await start(1_000, `127.0.0.1:${opsPort}`);
    expect(running.opsServer).toBeDefined();
    await unary(client.getTrack({ trackId: 'missing' }, new Metadata(), withDeadline(2_000))).catch(() => undefined);
    await unary(client.batchGetTracks({ trackIds: [] }, new Metadata(), withDeadline(2_000)));
    const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
    for (const side of ['server', 'client']) {
      const series = `rpc_${side}_call_duration_seconds_count{rpc_system_name="grpc",rpc_method="overture.metadata.v1.MetadataService`;
      expect(text).toMatch(new RegExp(`^${escape(series)}/GetTrack",rpc_status_code="NOT_FOUND"} [1-9]`, 'm'));
      expect(text).toMatch(new RegExp(`^${escape(series)}/BatchGetTracks",rpc_status_code="OK"} [1-9]`, 'm'));
    }
    expect(text).toMatch(/^overture_rpc_server_active_calls 0$/m);
    close();
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
