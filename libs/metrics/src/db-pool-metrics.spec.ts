import { describe, expect, it } from 'vitest';
import { observeConnectionPool } from './db-pool-metrics.js';
import { metricsRegistry } from './registry.js';

describe('observeConnectionPool', () => {
  it('reads idle, used, max and waiting from the pool at scrape time', async () => {
    const pool = { totalCount: 4, idleCount: 1, waitingCount: 0, options: { max: 10 } };
    observeConnectionPool('overture_spec', pool);
    pool.waitingCount = 2;
    const text = await metricsRegistry.metrics();
    expect(text).toContain(
      'db_client_connection_count{db_client_connection_pool_name="overture_spec",db_client_connection_state="idle"} 1',
    );
    expect(text).toContain(
      'db_client_connection_count{db_client_connection_pool_name="overture_spec",db_client_connection_state="used"} 3',
    );
    expect(text).toContain('db_client_connection_max{db_client_connection_pool_name="overture_spec"} 10');
    expect(text).toContain('db_client_connection_pending_requests{db_client_connection_pool_name="overture_spec"} 2');
  });
});
