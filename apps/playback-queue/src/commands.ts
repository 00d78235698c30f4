import 'reflect-metadata';
import { PLAYBACK_V1 } from '@overture/contracts';
import { databasePing, migrateDatabase } from '@overture/database';
import { serveGrpcService } from '@overture/grpc';
import { createLogger, type TracingHandle } from '@overture/tracing';
import { DataSource } from 'typeorm';
import { migrations } from './database/migrations/index.js';
import type { PlaybackConfig } from './playback.config.js';
import { PlaybackModule } from './playback.module.js';

export async function migrate(config: PlaybackConfig): Promise<void> {
  const logger = createLogger({ service: 'playback-queue', level: config.LOG_LEVEL });
  const applied = await migrateDatabase(config.DATABASE_URL, migrations);
  logger.log(applied.length ? `applied ${applied.join(', ')}` : 'schema up to date', 'Migrate');
}

export async function serve(config: PlaybackConfig, tracing: TracingHandle): Promise<void> {
  await serveGrpcService({
    module: PlaybackModule.forRoot(config),
    contract: PLAYBACK_V1,
    serviceNames: ['overture.playback.v1.PlaybackService'],
    settings: config,
    logger: createLogger({ service: 'playback-queue', level: config.LOG_LEVEL }),
    readiness: (app) => databasePing(app.get(DataSource)),
    tracing,
  });
}
