import { type DynamicModule, Module } from '@nestjs/common';
import { DatabaseModule } from '@overture/database';
import { migrations } from './database/migrations/index.js';
import type { MetadataConfig } from './metadata.config.js';
import { MetadataGrpcController } from './tracks/metadata.grpc-controller.js';
import { TrackRepository } from './tracks/track.repository.js';
import { TrackService } from './tracks/track.service.js';

@Module({})
export class MetadataModule {
  static forRoot(config: MetadataConfig): DynamicModule {
    return {
      module: MetadataModule,
      imports: [
        DatabaseModule.forRoot({
          url: config.DATABASE_URL,
          entities: [],
          migrations,
          poolSize: config.DATABASE_POOL_SIZE,
          applicationName: 'overture-metadata',
        }),
      ],
      controllers: [MetadataGrpcController],
      providers: [TrackRepository, TrackService],
    };
  }
}
