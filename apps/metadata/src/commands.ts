import 'reflect-metadata';
import { liveConfigSchema } from '@overture/config';
import type { LoggerService } from '@nestjs/common';
import { METADATA_V1 } from '@overture/contracts';
import { connectionPoolOf, databaseName, databasePing, migrateDatabase } from '@overture/database';
import { serveGrpcService } from '@overture/grpc';
import { allOf, identityReadiness } from '@overture/identity';
import { liveConfigMetrics, OpsServer } from '@overture/metrics';
import { createLogger, followLiveConfig, type TracingHandle } from '@overture/tracing';
import { DataSource } from 'typeorm';
import { migrations } from './database/migrations/index.js';
import { syntheticCatalogue } from './demo/synthetic-catalogue.js';
import type { MetadataConfig } from './metadata.config.js';
import { MetadataModule } from './metadata.module.js';
import { BULK_LOAD_CHOICES, formatReport, importCatalogue, type BulkLoadChoice } from './import/catalogue-import.js';
import { TrackBulkWriter } from './import/track-bulk.writer.js';
import pg from 'pg';
import { UsageError } from './command-error.js';

const USAGE =
  'usage: main.js [serve | migrate | seed-demo [count] | import <file.jsonl|file.csv> [--batch-size N] [--rejects file] [--bulk-load auto|always|never]]';

export async function runCommand(command: string, args: string[], config: MetadataConfig, tracing?: TracingHandle): Promise<void> {
  const logger = createLogger({ service: 'metadata', level: config.LOG_LEVEL, redactClientAddress: config.LOG_REDACT_CLIENT_ADDRESS });
  switch (command) {
    case 'migrate': {
      const applied = await migrateDatabase(config.DATABASE_URL, migrations);
      logger.log(applied.length ? `applied ${applied.join(', ')}` : 'schema up to date', 'Migrate');
      return;
    }
    case 'seed-demo': {
      const count = Number(args[0] ?? 3000);
      if (!Number.isInteger(count) || count < 1 || count > 1_000_000) throw new UsageError(`seed-demo count must be 1..1000000; ${USAGE}`);
      const client = new pg.Client({ connectionString: config.DATABASE_URL });
      await client.connect();
      try {
        const writer = new TrackBulkWriter(client);
        const catalogue = [...syntheticCatalogue(count)];
        let created = 0;
        for (let i = 0; i < catalogue.length; i += 5000) {
          const result = await writer.write(catalogue.slice(i, i + 5000).map((track, j) => ({ line: i + j + 1, track })));
          created += result.created;
        }
        logger.log(`demo catalogue: ${created} new tracks`, 'Seed');
      } finally {
        await client.end();
      }
      return;
    }
    case 'import': {
      const options = parseImportArgs(args);
      const ops = await opsServerIfFree(config.OPS_LISTEN, logger);
      try {
        const report = await importCatalogue({ databaseUrl: config.DATABASE_URL, ...options });
        process.stdout.write(`${formatReport(report, options.rejectsFile)}\n`);
      } finally {
        await ops?.close();
      }
      return;
    }
    case 'serve':
      liveConfigMetrics(followLiveConfig('metadata', liveConfigSchema, config, logger, tracing));
      await serveGrpcService({
        identity: 'metadata',
        module: MetadataModule.forRoot(config),
        contract: METADATA_V1,
        serviceNames: ['overture.metadata.v1.MetadataService', 'overture.metadata.v1.CatalogueService'],
        settings: config,
        logger,
        databasePool: (app) => ({ name: databaseName(config.DATABASE_URL), pool: connectionPoolOf(app.get(DataSource)) }),
        readiness: (app) => allOf(databasePing(app.get(DataSource)), identityReadiness(app)),
        tracing,
      });
      return;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}; ${USAGE}`);
  }
}

function parseImportArgs(args: string[]): { file: string; batchSize: number; rejectsFile: string; bulkLoad: BulkLoadChoice } {
  let file: string | undefined;
  let batchSize = 20_000;
  let rejectsFile: string | undefined;
  let bulkLoad = 'auto';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--batch-size') batchSize = Number(args[++i]);
    else if (arg === '--rejects') rejectsFile = args[++i];
    else if (arg === '--bulk-load') bulkLoad = args[++i] ?? '';
    else if (!file) file = arg;
    else throw new UsageError(`unexpected argument ${JSON.stringify(arg)}; ${USAGE}`);
  }
  if (!file || !/\.(jsonl|ndjson|csv)$/i.test(file)) throw new UsageError(`import needs a .jsonl or .csv file; ${USAGE}`);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 200_000) throw new UsageError('--batch-size must be 1..200000');
  if (!isBulkLoadChoice(bulkLoad)) throw new UsageError(`--bulk-load must be one of ${BULK_LOAD_CHOICES.join(', ')}`);
  return { file, batchSize, rejectsFile: rejectsFile ?? `${file.replace(/\.[^.]+$/, '')}.rejected.jsonl`, bulkLoad };
}

function isBulkLoadChoice(value: string): value is BulkLoadChoice {
  return (BULK_LOAD_CHOICES as readonly string[]).includes(value);
}

/**
 * The import's ops port (its progress metrics, for a Job's scrape). Busy, as when the service runs
 * beside it on one machine, the import goes on without one and says so.
 */
async function opsServerIfFree(address: string, logger: LoggerService): Promise<OpsServer | undefined> {
  const ops = new OpsServer();
  try {
    await ops.listen(address);
    logger.log(`ops (metrics) listening on ${address}`, 'Import');
    return ops;
  } catch (error) {
    logger.warn(
      `ops port ${address} not available (${(error as NodeJS.ErrnoException).code ?? String(error)}): no import metrics`,
      'Import',
    );
    return undefined;
  }
}
