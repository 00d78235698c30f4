import 'reflect-metadata';
import { AUTH_V1 } from '@overture/contracts';
import { databasePing, migrateDatabase } from '@overture/database';
import { serveGrpcService } from '@overture/grpc';
import { createLogger, type TracingHandle } from '@overture/tracing';
import { DataSource } from 'typeorm';
import type { AuthConfig, AuthMigrateConfig } from './auth.config.js';
import { AuthModule } from './auth.module.js';
import { migrations } from './database/migrations/index.js';

export async function migrate(config: AuthMigrateConfig): Promise<void> {
  const logger = createLogger({ service: 'auth', level: config.LOG_LEVEL });
  const applied = await migrateDatabase(config.DATABASE_URL, migrations);
  logger.log(applied.length ? `applied ${applied.join(', ')}` : 'schema up to date', 'Migrate');
}

export async function serve(config: AuthConfig, tracing: TracingHandle): Promise<void> {
  await serveGrpcService({
    module: AuthModule.forRoot(config),
    contract: AUTH_V1,
    serviceNames: ['overture.auth.v1.AuthService'],
    settings: config,
    logger: createLogger({ service: 'auth', level: config.LOG_LEVEL }),
    readiness: (app) => databasePing(app.get(DataSource)),
    tracing,
  });
}
