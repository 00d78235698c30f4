import { type DynamicModule, Global, Inject, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Backoff } from '@overture/resilience';
import { DataSource } from 'typeorm';
import { createDataSource, type DataSourceOptions } from './data-source.js';

/**
 * Connects, retrying with backoff while the server is not reachable yet (e.g. both start at once),
 * so a service waits for its database instead of crash-looping.
 */
export async function initializeWithRetry(dataSource: DataSource, attempts = 15, logger = new Logger('Database')): Promise<DataSource> {
  const backoff = new Backoff({ initialMs: 400, maxMs: 2_000 });
  for (let attempt = 1; ; attempt++) {
    try {
      return await dataSource.initialize();
    } catch (error) {
      if (attempt >= attempts) throw error;
      const wait = backoff.next();
      logger.warn(`database not reachable (${(error as Error).message}); retrying in ${wait} ms`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

@Injectable()
class DataSourceCloser implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** Provides the service's TypeORM DataSource (connected) and closes it when the app shuts down. */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: DataSourceOptions): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [{ provide: DataSource, useFactory: () => initializeWithRetry(createDataSource(options)) }, DataSourceCloser],
      exports: [DataSource],
    };
  }

  /**
   * The DataSource of an Overture service from its standard config variables: its own database,
   * its migrations (applied by `main.js migrate`, never here), shown as `overture-<service>` in
   * pg_stat_activity.
   */
  static forService(
    service: string,
    config: { readonly DATABASE_URL: string; readonly DATABASE_POOL_SIZE: number },
    migrations: DataSourceOptions['migrations'],
  ): DynamicModule {
    return DatabaseModule.forRoot({
      url: config.DATABASE_URL,
      entities: [],
      migrations,
      poolSize: config.DATABASE_POOL_SIZE,
      applicationName: `overture-${service}`,
    });
  }
}
