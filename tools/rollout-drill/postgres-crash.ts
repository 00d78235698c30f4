// kill -9 of a whole PostgreSQL server (the postmaster and every backend, as a crashed machine or
// container would leave it), then a start on the same data folder: crash recovery replays the WAL.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

function parentOf(pid: number): number | undefined {
  try {
    // Fields after the command name, which may hold spaces: state, ppid, …
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILLs the server whose data folder is `dataDir` and its backends; resolves when all are gone. */
export async function killPostgres(dataDir: string): Promise<number[]> {
  const postmaster = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  if (!Number.isInteger(postmaster) || postmaster <= 0) throw new Error(`no postmaster pid in ${dataDir}`);
  const children = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => parentOf(pid) === postmaster);
  const victims = [postmaster, ...children];
  for (const pid of victims) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + 10_000;
  while (victims.some(alive)) {
    if (Date.now() > deadline) throw new Error(`PostgreSQL processes ${victims.filter(alive).join(', ')} survived SIGKILL`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return victims;
}
