import { type DynamicModule, Module } from '@nestjs/common';
import { DatabaseModule } from '@overture/database';
import { transportSecurity } from '@overture/grpc';
import { IdentityModule } from '@overture/identity';
import { migrations } from './database/migrations/index.js';
import { Catalogue } from './features/catalogue.js';
import { FeatureSyncService } from './features/feature-sync.service.js';
import {
  METADATA_CATALOGUE_OPTIONS,
  MetadataCatalogueClient,
  type MetadataCatalogueOptions,
} from './features/metadata-catalogue.client.js';
import { TrackFeaturesRepository } from './features/track-features.repository.js';
import { PlayEventRepository } from './ingest/play-event.repository.js';
import { RecordPlayEventsUseCase } from './ingest/record-play-events.use-case.js';
import { CandidateRepository } from './recommend/candidate.repository.js';
import { RecommendationService } from './recommend/recommendation.service.js';
import type { RecommendationConfig } from './recommendation.config.js';
import { RecommendationGrpcController } from './recommendation.grpc-controller.js';

@Module({})
export class RecommendationModule {
  static forRoot(config: RecommendationConfig): DynamicModule {
    const transport = transportSecurity(config, 'recommendation');
    const catalogueOptions: MetadataCatalogueOptions = {
      url: config.METADATA_GRPC_URL,
      transport,
      deadlineMs: config.DOWNSTREAM_DEADLINE_MS,
    };
    return {
      module: RecommendationModule,
      imports: [
        DatabaseModule.forService('recommendation', config, migrations),
        // Every call is checked against the caller's forwarded access token and the live policy.
        IdentityModule.forRoot(config, transport),
      ],
      controllers: [RecommendationGrpcController],
      providers: [
        { provide: METADATA_CATALOGUE_OPTIONS, useValue: catalogueOptions },
        { provide: Catalogue, useClass: MetadataCatalogueClient },
        TrackFeaturesRepository,
        FeatureSyncService,
        PlayEventRepository,
        RecordPlayEventsUseCase,
        CandidateRepository,
        RecommendationService,
      ],
    };
  }
}
