import 'reflect-metadata';
import { liveConfigSchema } from '@overture/config';
import { AUTH_V1 } from '@overture/contracts';
import { liveConfigMetrics } from '@overture/metrics';
import { connectionPoolOf, databaseName, databasePing, migrateDatabase } from '@overture/database';
import { exitOnSignals, runGrpcService } from '@overture/grpc';
import { PolicyCache } from '@overture/identity';
import { createLogger, followLiveConfig, type TracingHandle } from '@overture/tracing';
import { DataSource } from 'typeorm';
import { changeRoleByEmail } from './accounts/change-role.command.js';
import type { AuthConfig, AuthMigrateConfig } from './auth.config.js';
import { AuthModule } from './auth.module.js';
import { migrations } from './database/migrations/index.js';
import { rotateKeys } from './keys/rotate-keys.command.js';
import { PolicyStream } from './policy/policy-stream.js';

export async function migrate(config: AuthMigrateConfig): Promise<void> {
  const logger = createLogger({ service: 'auth', level: config.LOG_LEVEL });
  const applied = await migrateDatabase(config.DATABASE_URL, migrations);
  logger.log(applied.length ? `applied ${applied.join(', ')}` : 'schema up to date', 'Migrate');
}

export async function serve(config: AuthConfig, tracing: TracingHandle | undefined): Promise<void> {
  const logger = createLogger({ service: 'auth', level: config.LOG_LEVEL, redactClientAddress: config.LOG_REDACT_CLIENT_ADDRESS });
  liveConfigMetrics(followLiveConfig('auth', liveConfigSchema, config, logger, tracing));
  const service = await runGrpcService({
    identity: 'auth',
    module: AuthModule.forRoot(config),
    contract: AUTH_V1,
    serviceNames: ['overture.auth.v1.AuthService'],
    settings: config,
    logger,
    databasePool: (app) => ({ name: databaseName(config.DATABASE_URL), pool: connectionPoolOf(app.get(DataSource)) }),
    readiness: (app) => {
      const ping = databasePing(app.get(DataSource));
      const policy = app.get(PolicyCache);
      return async () => {
        await ping();
        if (!policy.ready) throw new Error('the policy snapshot has not been loaded yet');
      };
    },
  });
  logger.log(`gRPC listening on ${config.GRPC_LISTEN}`, 'Bootstrap');
  exitOnSignals(async (signal) => {
    // Policy streams never end by themselves, and a graceful server shutdown waits for open calls:
    // end them first, so that subscribers reconnect (to another replica) and the drain can finish.
    await service.app.get(PolicyStream).close();
    await service.shutdown(signal);
    await tracing?.shutdown();
  }, logger);
}

export { changeRoleByEmail, rotateKeys };
