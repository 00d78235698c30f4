export { statementName } from './prepared-query.js';
export {
  connectionPoolOf,
  createDataSource,
  databasePing,
  MAX_STATEMENT_TIMEOUT_MS,
  migrateDatabase,
  pendingMigrations,
  runMigrations,
  type DataSourceOptions,
  type Migration,
} from './data-source.js';
export { DatabaseModule, initializeWithRetry } from './database.module.js';
export { databaseName, dropDatabase, ensureDatabase, maintenanceUrl, withDatabase } from './ensure-database.js';
