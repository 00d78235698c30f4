import { type DynamicModule, Module } from '@nestjs/common';
import { DatabaseModule } from '@overture/database';
import { transportSecurity } from '@overture/grpc';
import { IdempotencyModule } from '@overture/idempotency';
import { IdentityModule } from '@overture/identity';
import { DeviceRepository } from './devices/device.repository.js';
import { PlaybackChangeHub } from './events/playback-change.hub.js';
import { PlaybackChangePublisher } from './events/playback-change.publisher.js';
import { MetadataTrackCatalogue } from './catalogue/metadata-track-catalogue.client.js';
import { TrackCatalogue } from './catalogue/track-catalogue.js';
import { migrations } from './database/migrations/index.js';
import { OutboxMetrics } from './outbox/outbox.metrics.js';
import { OutboxRelay } from './outbox/outbox.relay.js';
import { OutboxRepository } from './outbox/outbox.repository.js';
import { PlayEventSink } from './outbox/play-event-sink.js';
import { RecommendationPlayEventSink } from './outbox/recommendation-play-event.sink.js';
import { PLAYBACK_CONFIG, type PlaybackConfig } from './playback.config.js';
import { PlayHistoryRepository } from './playback/play-history.repository.js';
import { PlaybackStateRepository } from './playback/playback-state.repository.js';
import { PlaybackGrpcController } from './playback.grpc-controller.js';
import { PlaybackService } from './playback/playback.service.js';
import { QueueRepository } from './playback/queue.repository.js';
import { QueueService } from './playback/queue.service.js';

@Module({})
export class PlaybackModule {
  static forRoot(config: PlaybackConfig): DynamicModule {
    return {
      module: PlaybackModule,
      imports: [
        DatabaseModule.forService('playback-queue', config, migrations),
        // Every call is checked against the caller's forwarded access token and the live policy.
        IdentityModule.forRoot(config, transportSecurity(config, 'playback-queue')),
        // Clients' Idempotency-Keys, stored with each change in its transaction.
        IdempotencyModule.forRoot(config),
      ],
      controllers: [PlaybackGrpcController],
      providers: [
        { provide: PLAYBACK_CONFIG, useValue: config },
        { provide: TrackCatalogue, useClass: MetadataTrackCatalogue },
        { provide: PlayEventSink, useClass: RecommendationPlayEventSink },
        QueueRepository,
        PlaybackStateRepository,
        PlayHistoryRepository,
        OutboxRepository,
        QueueService,
        PlaybackService,
        OutboxRelay,
        OutboxMetrics,
        DeviceRepository,
        PlaybackChangePublisher,
        PlaybackChangeHub,
      ],
    };
  }
}
