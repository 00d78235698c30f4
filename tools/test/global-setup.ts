import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../libs/database/src/embedded.ts';

let embedded: EmbeddedServer | undefined;

/**
 * Gives every test project one real PostgreSQL server: `TEST_DATABASE_URL` when set, otherwise an
 * embedded server in a throwaway data folder. Tests create and drop their own databases on it.
 */
export async function setup(project: TestProject): Promise<void> {
  const configured = process.env.TEST_DATABASE_URL;
  if (configured) {
    project.provide('postgresServerUrl', configured);
    return;
  }
  embedded ??= await startEmbeddedPostgres({
    dataDir: `.data/test-pg-${process.pid}-${Date.now()}`,
    persistent: false,
  });
  project.provide('postgresServerUrl', embedded.url);
}

export async function teardown(): Promise<void> {
  await embedded?.stop();
  embedded = undefined;
}
