import { gauge, metricsEnabled } from './registry.js';

/** What a pg `Pool` tells about itself (node-postgres keeps these counts; reading them is free). */
export interface ConnectionPoolState {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
  readonly options?: { readonly max?: number };
}

const pools = new Map<string, ConnectionPoolState>();
let declared = false;

/**
 * Exports a connection pool's state under OpenTelemetry's database-client names, read at scrape
 * time (nothing is done per query): connections idle and used, the pool's limit, and requests
 * waiting for a connection. `name` is the pool's name (the database's), one series set per pool.
 */
export function observeConnectionPool(name: string, pool: ConnectionPoolState): void {
  if (!metricsEnabled()) return;
  pools.set(name, pool);
  if (declared) return;
  declared = true;
  gauge({
    name: 'db_client_connection_count',
    help: 'Connections of the pool, by state (idle, used).',
    labelNames: ['db_client_connection_pool_name', 'db_client_connection_state'],
    collect() {
      for (const [poolName, state] of pools) {
        this.set({ db_client_connection_pool_name: poolName, db_client_connection_state: 'idle' }, state.idleCount);
        this.set({ db_client_connection_pool_name: poolName, db_client_connection_state: 'used' }, state.totalCount - state.idleCount);
      }
    },
  });
  gauge({
    name: 'db_client_connection_max',
    help: 'The most connections the pool opens.',
    labelNames: ['db_client_connection_pool_name'],
    collect() {
      for (const [poolName, state] of pools)
        if (state.options?.max !== undefined) this.set({ db_client_connection_pool_name: poolName }, state.options.max);
    },
  });
  gauge({
    name: 'db_client_connection_pending_requests',
    help: 'Requests waiting for a connection of the pool.',
    labelNames: ['db_client_connection_pool_name'],
    collect() {
      for (const [poolName, state] of pools) this.set({ db_client_connection_pool_name: poolName }, state.waitingCount);
    },
  });
}
