import 'reflect-metadata';
import { liveConfigSchema } from '@overture/config';
import { RECOMMENDATION_V1 } from '@overture/contracts';
import { liveConfigMetrics } from '@overture/metrics';
import { connectionPoolOf, databaseName, databasePing, migrateDatabase } from '@overture/database';
import { serveGrpcService } from '@overture/grpc';
import { allOf, identityReadiness } from '@overture/identity';
import { createLogger, followLiveConfig, type TracingHandle } from '@overture/tracing';
import { DataSource } from 'typeorm';
import { migrations } from './database/migrations/index.js';
import type { RecommendationConfig } from './recommendation.config.js';
import { RecommendationModule } from './recommendation.module.js';

export async function migrate(config: RecommendationConfig): Promise<void> {
  const logger = createLogger({
    service: 'recommendation',
    level: config.LOG_LEVEL,
    redactClientAddress: config.LOG_REDACT_CLIENT_ADDRESS,
  });
  const applied = await migrateDatabase(config.DATABASE_URL, migrations);
  logger.log(applied.length ? `applied ${applied.join(', ')}` : 'schema up to date', 'Migrate');
}

export async function serve(config: RecommendationConfig, tracing: TracingHandle | undefined): Promise<void> {
  const logger = createLogger({
    service: 'recommendation',
    level: config.LOG_LEVEL,
    redactClientAddress: config.LOG_REDACT_CLIENT_ADDRESS,
  });
  liveConfigMetrics(followLiveConfig('recommendation', liveConfigSchema, config, logger, tracing));
  await serveGrpcService({
    identity: 'recommendation',
    module: RecommendationModule.forRoot(config),
    contract: RECOMMENDATION_V1,
    serviceNames: ['overture.recommendation.v1.RecommendationService'],
    settings: config,
    logger,
    // Ready means our own database answers and callers can be checked; metadata being down only
    // narrows the answers.
    databasePool: (app) => ({ name: databaseName(config.DATABASE_URL), pool: connectionPoolOf(app.get(DataSource)) }),
    readiness: (app) => allOf(databasePing(app.get(DataSource)), identityReadiness(app)),
    tracing,
  });
}
