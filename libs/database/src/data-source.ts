import { remainingBudgetMs } from '@overture/tracing';
import pg from 'pg';
import { ensureDatabase } from './ensure-database.js';
import { DataSource, type DataSourceOptions as TypeOrmOptions, type EntityManager, type MigrationInterface } from 'typeorm';
import type { IsolationLevel } from 'typeorm/driver/types/IsolationLevel.js';

export interface DataSourceOptions {
  readonly url: string;
  readonly entities: NonNullable<TypeOrmOptions['entities']>;
  readonly migrations: NonNullable<TypeOrmOptions['migrations']>;
  readonly poolSize?: number;
  /** Shown in pg_stat_activity. */
  readonly applicationName?: string;
}

/** Where TypeORM records the migrations it applied. */
const MIGRATIONS_TABLE = 'migrations';

/** The longest any statement may run (every connection's `statement_timeout`). */
export const MAX_STATEMENT_TIMEOUT_MS = 15_000;

type TransactionWork<T> = (em: EntityManager) => Promise<T>;

/**
 * A DataSource whose transactions, run while serving a call with a deadline, give their statements
 * only the time the caller has left: `statement_timeout` is set for the transaction (`SET LOCAL`,
 * one round trip) to the remaining budget when that is below MAX_STATEMENT_TIMEOUT_MS, so that
 * PostgreSQL stops work nobody waits for instead of holding a pooled connection for 15 s.
 */
class BudgetedDataSource extends DataSource {
  override transaction<T>(isolationOrWork: IsolationLevel | TransactionWork<T>, maybeWork?: TransactionWork<T>): Promise<T> {
    if (typeof isolationOrWork === 'function') return super.transaction(budgetedWork(isolationOrWork));
    if (!maybeWork) throw new TypeError('transaction(isolationLevel, work) needs the work');
    return super.transaction(isolationOrWork, budgetedWork(maybeWork));
  }
}

function budgetedWork<T>(work: TransactionWork<T>): TransactionWork<T> {
  const remaining = remainingBudgetMs();
  if (remaining === undefined || remaining >= MAX_STATEMENT_TIMEOUT_MS) return work;
  // The deadline as of the call, not as read later from the async context: pg's pool hands a
  // connection over in callbacks that may carry another call's context.
  const deadline = Date.now() + remaining;
  return async (em) => {
    // Measured again once a connection is held: waiting for one used part of the budget.
    const timeoutMs = Math.max(1, Math.min(MAX_STATEMENT_TIMEOUT_MS, Math.floor(deadline - Date.now())));
    await em.query("SELECT set_config('statement_timeout', $1, true)", [String(timeoutMs)]);
    return work(em);
  };
}

/**
 * A TypeORM DataSource for one service's own database. Schema comes only from migrations
 * (`synchronize` is off); queries time out rather than hang a request forever, and sooner inside
 * a call whose caller will stop waiting sooner (BudgetedDataSource).
 */
export function createDataSource(options: DataSourceOptions): DataSource {
  return new BudgetedDataSource({
    type: 'postgres',
    url: options.url,
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: MIGRATIONS_TABLE,
    synchronize: false,
    migrationsRun: false,
    logging: ['error'],
    applicationName: options.applicationName,
    extra: {
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5_000,
      statement_timeout: MAX_STATEMENT_TIMEOUT_MS,
      idle_in_transaction_session_timeout: 30_000,
    },
  });
}

// Any fixed 64-bit key: all migrators of one database take the same lock.
const MIGRATION_LOCK_KEY = 7_146_281_950_117;

/**
 * Runs pending migrations, each in its own transaction, and returns the names applied. Holds an
 * advisory lock while doing so: several replicas' migrate steps may start at once (init containers
 * of a scale-up), and the later ones must wait and then find nothing to do rather than race.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lock.release();
  }
}

export type Migration = new () => MigrationInterface;

/**
 * The `migrate` command of every service: creates the database when missing, applies pending
 * migrations under the migration lock, and returns the names applied.
 */
export async function migrateDatabase(url: string, migrations: readonly Migration[]): Promise<string[]> {
  await ensureDatabase(url);
  const dataSource = await createDataSource({ url, entities: [], migrations: [...migrations], poolSize: 2 }).initialize();
  try {
    return await runMigrations(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/**
 * The names of `migrations` not yet applied to the database at `url` (all of them when it has no
 * migrations table): for commands that need the schema but must not change it themselves, so that
 * they can say "run migrate first" instead of failing on a missing table.
 */
export async function pendingMigrations(url: string, migrations: readonly Migration[]): Promise<string[]> {
  const names = migrations.map((M) => new M().name ?? M.name);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const table = await client.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [MIGRATIONS_TABLE]);
    if (!table.rows[0]?.found) return names;
    const applied = new Set((await client.query<{ name: string }>(`SELECT name FROM ${MIGRATIONS_TABLE}`)).rows.map((row) => row.name));
    return names.filter((name) => !applied.has(name));
  } finally {
    await client.end();
  }
}

/** A readiness check for a service's database: one round trip. */
export function databasePing(dataSource: DataSource): () => Promise<void> {
  return async () => {
    await dataSource.query('SELECT 1');
  };
}

/**
 * The node-postgres pool behind a TypeORM data source (its driver's `master`), for reading its
 * counts (connections idle and in use, requests waiting) at scrape and readiness time.
 */
export function connectionPoolOf(dataSource: DataSource): pg.Pool {
  const pool = (dataSource.driver as { master?: Partial<pg.Pool> }).master;
  // Duck-typed: TypeORM loads pg itself, which need not be the instance this module imported.
  if (typeof pool?.totalCount !== 'number') throw new Error('the data source has no node-postgres pool (not initialised, or not postgres)');
  return pool as pg.Pool;
}
