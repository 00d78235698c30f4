import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./finished-call-survival.ts', import.meta.url));

interface Survival {
  calls: number;
  freedByScavenge: number;
  freedByFullGc: number;
}

/** 200 finished SearchTracks calls in a process of their own: how many responses one scavenge frees. */
async function survival(mode: 'released' | 'plain'): Promise<Survival> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--min-semi-space-size=16', '--max-semi-space-size=16', fixture, mode],
    { timeout: 30_000 },
  );
  return JSON.parse(stdout) as Survival;
}

describe('releaseFinishedCalls', () => {
  it('is installed by createGrpcClient, and lets a scavenge free the responses of finished calls', async () => {
    const result = await survival('released');
    expect(result.freedByScavenge).toBeGreaterThanOrEqual(195);
    expect(result.freedByScavenge + result.freedByFullGc).toBe(200);
  });

  // The control: what the cuts are for. Should this start failing (a Node, V8 or grpc-js release
  // that no longer keeps finished calls alive), the cuts may have become unnecessary.
  it('without it, no response of a finished call dies young', async () => {
    const result = await survival('plain');
    expect(result.freedByScavenge).toBeLessThanOrEqual(5);
    expect(result.freedByFullGc).toBeGreaterThanOrEqual(195);
  });
});
