import 'reflect-metadata';
import { liveConfigSchema } from '@overture/config';
import { PLAYBACK_V1 } from '@overture/contracts';
import { liveConfigMetrics } from '@overture/metrics';
import { connectionPoolOf, databaseName, databasePing, migrateDatabase } from '@overture/database';
import { exitOnSignals, runGrpcService } from '@overture/grpc';
import { allOf, identityReadiness } from '@overture/identity';
import { createLogger, followLiveConfig, type TracingHandle } from '@overture/tracing';
import { DataSource } from 'typeorm';
import { PlaybackChangeHub } from './events/playback-change.hub.js';
import { migrations } from './database/migrations/index.js';
import type { PlaybackConfig } from './playback.config.js';
import { PlaybackModule } from './playback.module.js';

export async function migrate(config: PlaybackConfig): Promise<void> {
  const logger = createLogger({
    service: 'playback-queue',
    level: config.LOG_LEVEL,
    redactClientAddress: config.LOG_REDACT_CLIENT_ADDRESS,
  });
  const applied = await migrateDatabase(config.DATABASE_URL, migrations);
  logger.log(applied.length ? `applied ${applied.join(', ')}` : 'schema up to date', 'Migrate');
}

export async function serve(config: PlaybackConfig, tracing: TracingHandle | undefined): Promise<void> {
  const logger = createLogger({
    service: 'playback-queue',
    level: config.LOG_LEVEL,
    redactClientAddress: config.LOG_REDACT_CLIENT_ADDRESS,
  });
  liveConfigMetrics(followLiveConfig('playback-queue', liveConfigSchema, config, logger, tracing));
  const service = await runGrpcService({
    identity: 'playback-queue',
    module: PlaybackModule.forRoot(config),
    contract: PLAYBACK_V1,
    serviceNames: ['overture.playback.v1.PlaybackService'],
    settings: config,
    logger,
    databasePool: (app) => ({ name: databaseName(config.DATABASE_URL), pool: connectionPoolOf(app.get(DataSource)) }),
    readiness: (app) => allOf(databasePing(app.get(DataSource)), identityReadiness(app)),
  });
  logger.log(`gRPC listening on ${config.GRPC_LISTEN}`, 'Bootstrap');
  exitOnSignals(async (signal) => {
    // Watchers are told at once to move to another replica, and their streams end once they have
    // (within WATCH_DRAIN_GRACE_MS); meanwhile the server reports NOT_SERVING and its drain waits
    // for those streams with the other calls in flight.
    const watchersMoved = service.app.get(PlaybackChangeHub).drain();
    await service.shutdown(signal);
    await watchersMoved;
    await tracing?.shutdown();
  }, logger);
}
