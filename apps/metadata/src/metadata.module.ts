import { type DynamicModule, Module } from '@nestjs/common';
import { DatabaseModule } from '@overture/database';
import { transportSecurity } from '@overture/grpc';
import { IdempotencyModule } from '@overture/idempotency';
import { IdentityModule } from '@overture/identity';
import { TermCache } from './cache/term-cache.js';
import { TrackCache } from './cache/track-cache.js';
import { TrackCacheListener } from './cache/track-cache.listener.js';
import { ChangeFeedRepository } from './curation/change-feed.repository.js';
import { CurationService } from './curation/curation.service.js';
import { TrackWriteRepository } from './curation/track-write.repository.js';
import { BackendCanceller } from './database/backend.canceller.js';
import { migrations } from './database/migrations/index.js';
import { StatementRunner } from './database/statement.runner.js';
import { METADATA_CONFIG, type MetadataConfig } from './metadata.config.js';
import { SearchCursorCodec } from './catalogue/search-cursor.js';
import { SearchRepository } from './search/search.repository.js';
import { FacetCounter } from './search/facet.counter.js';
import { SearchQueryPlanner } from './search/search-query.planner.js';
import { SearchService } from './search/search.service.js';
import { TermDictionary } from './search/term.dictionary.js';
import { CatalogueGrpcController } from './catalogue.grpc-controller.js';
import { MetadataGrpcController } from './metadata.grpc-controller.js';
import { TrackRepository } from './tracks/track.repository.js';
import { TrackService } from './tracks/track.service.js';

@Module({})
export class MetadataModule {
  static forRoot(config: MetadataConfig): DynamicModule {
    return {
      module: MetadataModule,
      imports: [
        DatabaseModule.forService('metadata', config, migrations),
        // Catalogue writes are checked against the caller's forwarded access token and the live policy.
        IdentityModule.forRoot(config, transportSecurity(config, 'metadata')),
        // Curators' Idempotency-Keys, stored with each track write in its transaction.
        IdempotencyModule.forRoot(config),
      ],
      controllers: [MetadataGrpcController, CatalogueGrpcController],
      providers: [
        { provide: METADATA_CONFIG, useValue: config },
        { provide: TrackCache, useValue: new TrackCache(config.TRACK_CACHE_SIZE) },
        { provide: TermCache, useValue: new TermCache() },
        { provide: SearchCursorCodec, useValue: new SearchCursorCodec(config.METADATA_CURSOR_KEY) },
        TrackCacheListener,
        BackendCanceller,
        StatementRunner,
        TrackRepository,
        TrackService,
        SearchRepository,
        TermDictionary,
        SearchQueryPlanner,
        FacetCounter,
        SearchService,
        TrackWriteRepository,
        ChangeFeedRepository,
        CurationService,
      ],
    };
  }
}
