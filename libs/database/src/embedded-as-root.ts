import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, lstat, mkdir, readdir, readFile, readlink, realpath, rename, rm, rmdir, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

// PostgreSQL refuses to run as root, so a root process runs it as the `postgres` system user. That
// user must reach the binaries and the data folder, which a checkout in a folder only root may enter
// (root's home, a mkdtemp folder) hides from it: this module stages them where it can.

const run = promisify(execFile);

export interface PostgresUser {
  readonly uid: number;
  readonly gid: number;
}

/** The `postgres` system user, created when missing. */
export async function postgresUser(): Promise<PostgresUser> {
  const ids = async (): Promise<PostgresUser> => {
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
  };
  try {
    return await ids();
  } catch {
    // missing: created below
  }
  let failure = '';
  try {
    await run('groupadd', ['--force', '--system', 'postgres']);
    await run('useradd', ['--system', '--gid', 'postgres', 'postgres']);
  } catch (error) {
    // Another run may have created it meanwhile.
    failure = firstLine((error as { stderr?: string }).stderr) || (error as Error).message;
  }
  return ids().catch(() => {
    throw new Error(`PostgreSQL cannot run as root and the postgres system user could not be created (${failure}); create it`);
  });
}

/**
 * Whether `user` may enter every folder on the way to `target` (its deepest existing folder), by
 * mode bits. Supplementary groups and ACLs are not counted (the child process drops its supplementary
 * groups anyway), so a doubtful path counts as closed and gets staged.
 */
export async function canEnter(user: PostgresUser, target: string): Promise<boolean> {
  let existing = path.resolve(target);
  while (!existsSync(existing)) existing = path.dirname(existing);
  for (let dir = await realpath(existing); ; dir = path.dirname(dir)) {
    const info = await stat(dir);
    const bit = info.uid === user.uid ? 0o100 : info.gid === user.gid ? 0o010 : 0o001;
    if ((info.mode & bit) === 0) return false;
    if (dir === path.dirname(dir)) return true;
  }
}

/**
 * The folder root stages binaries and data in: /var/tmp (kept across reboots, so `npm start` keeps its
 * data), else the temporary folder. Refused when someone else could have planted files in it.
 */
async function stagingRoot(user: PostgresUser): Promise<string> {
  const root = path.join(existsSync('/var/tmp') ? '/var/tmp' : tmpdir(), 'overture-embedded-postgres');
  await mkdir(root, { mode: 0o755 }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  const info = await lstat(root);
  if (!info.isDirectory() || info.uid !== 0 || (info.mode & 0o022) !== 0) {
    throw new Error(`${root} is not a folder only root can write to; remove it`);
  }
  if ((info.mode & 0o755) !== 0o755) await chmod(root, 0o755); // a umask of 077 made it root's alone
  if (!(await canEnter(user, root))) throw new Error(`the postgres user cannot enter ${root}`);
  return root;
}

/**
 * The PostgreSQL installation (`bin/`, `lib/`, `share/`) as `user` can run it: `native` itself when
 * reachable, else a copy under the staging root, one per version, made once and renamed into place
 * whole so that concurrent runs share it.
 */
export async function reachableInstallation(user: PostgresUser, native: string, version: string): Promise<string> {
  if (await canEnter(user, path.join(native, 'bin'))) return native;
  const staged = path.join(await stagingRoot(user), `postgresql-${version}-${process.platform}-${process.arch}`);
  if (existsSync(staged)) return staged;
  const partial = `${staged}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await cp(native, partial, { recursive: true, verbatimSymlinks: true });
    await openToAll(partial);
    await rename(partial, staged);
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    if (!existsSync(staged)) throw error; // else another run staged it first
  }
  return staged;
}

/** Folders 755, files readable (and executables executable) by everyone, whatever the umask was. */
async function openToAll(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (entry.isDirectory()) await chmod(file, 0o755);
    else if (entry.isFile()) await chmod(file, (await stat(file)).mode & 0o100 ? 0o755 : 0o644);
  }
}

/**
 * The folder the cluster for `dataDir` lives in when `user` runs it: `dataDir` itself when the user
 * can reach it; else a folder under the staging root, with `dataDir` made a link to it. The staged
 * folder lives as long as the link: deleting the link starts over, and a later run removes staged
 * folders whose link is gone (a deleted checkout, a test run that crashed).
 */
export async function reachableDataDir(user: PostgresUser, dataDir: string): Promise<string> {
  const parent = await realpath(path.dirname(dataDir));
  const existing = await lstat(dataDir).catch(() => undefined);
  if (existing?.isSymbolicLink()) return path.resolve(parent, await readlink(dataDir));
  if (await canEnter(user, dataDir)) return dataDir;
  if (existing) {
    // An empty folder is what a failed first run left; anything else is someone's data.
    if (!existing.isDirectory() || (await readdir(dataDir)).length > 0) {
      throw new Error(`the postgres user cannot reach the data folder ${dataDir}; move it to a folder it can enter, or delete it`);
    }
    await rmdir(dataDir);
  }
  const resolved = path.join(parent, path.basename(dataDir));
  const hash = createHash('sha256').update(resolved).digest('hex').slice(0, 16);
  const root = await stagingRoot(user);
  await removeOrphans(root);
  const target = path.join(root, `${path.basename(dataDir)}-${hash}`);
  await rm(target, { recursive: true, force: true });
  await rm(`${target}.owner`, { force: true });
  // The way back to the link first, so that removeOrphans in another run can tell it from an orphan.
  await symlink(resolved, `${target}.owner`);
  await symlink(target, dataDir);
  return target;
}

/** Removes a data folder `reachableDataDir` gave for `dataDir`, with the link to it if it was staged. */
export async function removeDataDir(dataDir: string, cluster: string): Promise<void> {
  await rm(cluster, { recursive: true, force: true });
  if (cluster === dataDir) return;
  await rm(dataDir, { force: true });
  await rm(`${cluster}.owner`, { force: true });
}

/** Removes staged data folders whose link no longer points at them, unless a server still runs in one. */
async function removeOrphans(root: string): Promise<void> {
  for (const name of await readdir(root)) {
    if (!name.endsWith('.owner')) continue;
    const owner = path.join(root, name);
    const target = owner.slice(0, -'.owner'.length);
    const made = await lstat(owner).catch(() => undefined);
    // Skip one just made: its link may be on its way.
    if (!made || Date.now() - made.mtimeMs < 60_000) continue;
    const link = await readlink(owner).catch(() => '');
    if ((await readlink(link).catch(() => '')) === target || (await serverRunsIn(target))) continue;
    await rm(target, { recursive: true, force: true });
    await rm(owner, { force: true });
  }
}

async function serverRunsIn(dataDir: string): Promise<boolean> {
  const pid = Number((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n').find((line) => line.trim() !== '') ?? '';
}
