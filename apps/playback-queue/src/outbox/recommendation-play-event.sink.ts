import { Metadata, status } from '@grpc/grpc-js';
import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { RECOMMENDATION_V1, recommendationV1 } from '@overture/contracts';
import { createGrpcClient, readGrpcError, transportSecurity, unary, withDeadline, type GrpcClientHandle } from '@overture/grpc';
import { PLAYBACK_CONFIG, type PlaybackConfig } from '../playback.config.js';
import { type OutgoingPlayEvent, PlayEventSink, PlayEventsRefused } from './play-event-sink.js';

const KINDS = {
  play: recommendationV1.PlayEventKind.PLAY_EVENT_KIND_PLAY,
  skip: recommendationV1.PlayEventKind.PLAY_EVENT_KIND_SKIP,
} as const;

/** Delivers play events with recommendation's RecordPlayEvents, which ingests them idempotently by event id. */
@Injectable()
export class RecommendationPlayEventSink extends PlayEventSink implements OnApplicationShutdown {
  private readonly client: GrpcClientHandle<recommendationV1.RecommendationServiceClient>;
  private readonly deadlineMs: number;

  constructor(@Inject(PLAYBACK_CONFIG) config: PlaybackConfig) {
    super();
    this.client = createGrpcClient({
      contract: RECOMMENDATION_V1,
      serviceName: 'RecommendationService',
      url: config.RECOMMENDATION_GRPC_URL,
      transport: transportSecurity(config, 'playback-queue'),
    });
    this.deadlineMs = config.DOWNSTREAM_DEADLINE_MS;
  }

  async deliver(events: readonly OutgoingPlayEvent[]): Promise<void> {
    try {
      await this.send(events);
    } catch (error) {
      // INVALID_ARGUMENT: recommendation validated the request and refused it; the same events would
      // be refused again. Anything else (UNAVAILABLE, DEADLINE_EXCEEDED…) may pass on a retry.
      const grpc = readGrpcError(error);
      if (grpc?.code === status.INVALID_ARGUMENT) throw new PlayEventsRefused(grpc.details);
      throw error;
    }
  }

  private async send(events: readonly OutgoingPlayEvent[]): Promise<void> {
    await unary(
      this.client.service.recordPlayEvents(
        {
          events: events.map(({ payload: e, traceparent }) => ({
            eventId: e.event_id,
            userId: e.user_id,
            trackId: e.track_id,
            kind: KINDS[e.kind],
            playedMs: e.played_ms,
            occurredAt: e.occurred_at,
            traceparent: traceparent ?? '',
          })),
        },
        new Metadata(),
        withDeadline(this.deadlineMs),
      ),
    );
  }

  onApplicationShutdown(): void {
    this.client.close();
  }
}
