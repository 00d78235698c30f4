import 'reflect-metadata';
import { METADATA_V1 } from '@overture/contracts';
import { createDataSource, databasePing, migrateDatabase } from '@overture/database';
import { serveGrpcService } from '@overture/grpc';
import { createLogger, type TracingHandle } from '@overture/tracing';
import { DataSource } from 'typeorm';
import { migrations } from './database/migrations/index.js';
import { generateDemoCatalogue } from './demo/demo-catalogue.js';
import type { MetadataConfig } from './metadata.config.js';
import { MetadataModule } from './metadata.module.js';
import { TrackRepository } from './tracks/track.repository.js';

const USAGE = 'usage: main.js [serve | migrate | seed-demo [count]]';

export async function runCommand(command: string, args: string[], config: MetadataConfig, tracing?: TracingHandle): Promise<void> {
  const logger = createLogger({ service: 'metadata', level: config.LOG_LEVEL });
  switch (command) {
    case 'migrate': {
      const applied = await migrateDatabase(config.DATABASE_URL, migrations);
      logger.log(applied.length ? `applied ${applied.join(', ')}` : 'schema up to date', 'Migrate');
      return;
    }
    case 'seed-demo': {
      const count = Number(args[0] ?? 3000);
      if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new Error(`seed-demo count must be 1..1000000; ${USAGE}`);
      const dataSource = await createDataSource({ url: config.DATABASE_URL, entities: [], migrations }).initialize();
      const repository = new TrackRepository(dataSource);
      const catalogue = generateDemoCatalogue(count);
      let inserted = 0;
      for (let i = 0; i < catalogue.length; i += 1000) inserted += await repository.insertMany(catalogue.slice(i, i + 1000));
      logger.log(`demo catalogue: ${inserted} new tracks, ${await repository.count()} in all`, 'Seed');
      await dataSource.destroy();
      return;
    }
    case 'serve':
      await serveGrpcService({
        module: MetadataModule.forRoot(config),
        contract: METADATA_V1,
        serviceNames: ['overture.metadata.v1.MetadataService'],
        settings: config,
        logger,
        readiness: (app) => databasePing(app.get(DataSource)),
        tracing,
      });
      return;
    default:
      throw new Error(`unknown command ${JSON.stringify(command)}; ${USAGE}`);
  }
}
