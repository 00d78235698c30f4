import { dropDatabase, ensureDatabase, withDatabase } from '@overture/database';
import { randomBytes } from 'node:crypto';

export interface TestDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

/**
 * Creates a fresh, uniquely named database on the test server, so each test file owns its data and
 * none depends on another's leftovers. `serverUrl` comes from `inject('postgresServerUrl')`.
 */
export async function createTestDatabase(serverUrl: string, prefix: string): Promise<TestDatabase> {
  const name = `t_${prefix.replace(/\W/g, '_')}_${randomBytes(5).toString('hex')}`.toLowerCase();
  const url = withDatabase(serverUrl, name);
  await ensureDatabase(url);
  return { url, drop: () => dropDatabase(url) };
}
