import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { METADATA_V1, metadataV1 } from '@overture/contracts';
import { callMetadata, createGrpcClient, transportSecurity, unary, withDeadline, type GrpcClientHandle } from '@overture/grpc';
import { createCallPolicy, retryIdempotent, type CallPolicy } from '@overture/resilience';
import { PLAYBACK_CONFIG, type PlaybackConfig } from '../playback.config.js';
import { TrackCatalogue, type TrackLookup } from './track-catalogue.js';

/**
 * The catalogue over metadata's BatchGetTracks. A read, so one retry on UNAVAILABLE (e.g. a
 * connection to a replica that is shutting down); a circuit breaker fails calls fast while
 * metadata is down. Either way the caller sees UNAVAILABLE.
 */
@Injectable()
export class MetadataTrackCatalogue extends TrackCatalogue implements OnApplicationShutdown {
  private readonly client: GrpcClientHandle<metadataV1.MetadataServiceClient>;
  private readonly policy: CallPolicy = createCallPolicy({
    name: 'metadata',
    breaker: { halfOpenAfterMs: 5_000, consecutiveFailures: 5 },
  });
  private readonly deadlineMs: number;

  constructor(@Inject(PLAYBACK_CONFIG) config: PlaybackConfig) {
    super();
    this.client = createGrpcClient({
      contract: METADATA_V1,
      serviceName: 'MetadataService',
      url: config.METADATA_GRPC_URL,
      transport: transportSecurity(config, 'playback-queue'),
    });
    this.deadlineMs = config.DOWNSTREAM_DEADLINE_MS;
  }

  async lookup(trackIds: readonly string[]): Promise<TrackLookup> {
    const response = await this.policy.execute(() =>
      retryIdempotent(
        () => unary(this.client.service.batchGetTracks({ trackIds: [...trackIds] }, callMetadata(), withDeadline(this.deadlineMs))),
        { attempts: 2, baseDelayMs: 50, maxDelayMs: 200 },
      ),
    );
    const durations = new Map(response.tracks.map((track) => [track.trackId, track.durationMs]));
    return { durations, missing: trackIds.filter((id) => !durations.has(id)) };
  }

  onApplicationShutdown(): void {
    this.client.close();
  }
}
