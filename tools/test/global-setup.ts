import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../libs/database/src/embedded.ts';
import { writeDevCertificates } from '../../libs/grpc/src/dev-certificates.ts';
import { SERVICE_IDENTITIES } from '../../libs/grpc/src/service-identity.ts';

let embedded: EmbeddedServer | undefined;
let tlsRoot: Promise<string> | undefined;

/**
 * Gives every test project one real PostgreSQL server: `TEST_DATABASE_URL` when set, otherwise an
 * embedded server in a throwaway data folder. Tests create and drop their own databases on it.
 * And one local CA for the run, with a certificate per service identity, for mutual TLS.
 */
export async function setup(project: TestProject): Promise<void> {
  tlsRoot ??= (async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'overture-test-tls-'));
    await writeDevCertificates(root, SERVICE_IDENTITIES);
    return root;
  })();
  project.provide('grpcTlsRoot', await tlsRoot);
  const configured = process.env.TEST_DATABASE_URL;
  if (configured) {
    project.provide('postgresServerUrl', configured);
    return;
  }
  try {
    embedded ??= await startEmbeddedPostgres({
      dataDir: `.data/test-pg-${process.pid}-${Date.now()}`,
      persistent: false,
    });
  } catch (error) {
    // One line to act on, rather than the test runner's report of an unhandled error.
    process.stderr.write(
      `cannot start the embedded PostgreSQL for the tests: ${(error as Error).message}. ` +
        'Set TEST_DATABASE_URL to a PostgreSQL server you run (tests create and drop their own databases on it).\n',
    );
    await teardown();
    process.exit(1);
  }
  project.provide('postgresServerUrl', embedded.url);
}

export async function teardown(): Promise<void> {
  await embedded?.stop();
  embedded = undefined;
  if (tlsRoot) await rm(await tlsRoot, { recursive: true, force: true });
  tlsRoot = undefined;
}
