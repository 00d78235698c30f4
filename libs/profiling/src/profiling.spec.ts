import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { Profile } from 'pprof-format';
import { describe, expect, it } from 'vitest';
import { captureCpuProfile, captureHeapProfile, pprofHandlers, ProfilingError, ProfilingErrorCode } from './index.js';

const gunzipAsync = promisify(gunzip);

async function decode(body: Uint8Array | string): Promise<Profile> {
  if (typeof body === 'string') throw new Error(`expected a profile, got text: ${body}`);
  return Profile.decode(await gunzipAsync(body));
}

/** Names of the functions the profile's samples reach, from its string table. */
function sampledFunctionNames(profile: Profile): Set<string> {
  const functions = new Map(profile.function.map((fn) => [Number(fn.id), profile.stringTable.strings[Number(fn.name)]]));
  const locations = new Map(profile.location.map((loc) => [Number(loc.id), loc]));
  return new Set(
    profile.sample.flatMap((sample) =>
      sample.locationId.flatMap((id) => locations.get(Number(id))!.line.map((line) => functions.get(Number(line.functionId))!)),
    ),
  );
}

// Runs `work` in short slices, yielding to the event loop between them, until `capture` settles.
async function whileCapturing<T>(capture: Promise<T>, work: () => void): Promise<T> {
  let settled = false;
  const done = capture.finally(() => (settled = true));
  while (!settled) {
    work();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return done;
}

function burnCpuForProfilingTest(): number {
  let x = 0;
  const until = performance.now() + 20;
  while (performance.now() < until) x += Math.sqrt(x + 1);
  return x;
}

// Up to about 10 MB, kept until the capture ends: enough for V8 to sample (one in 32 KiB).
const retained: unknown[] = [];
function retainObjectsForProfilingTest(): void {
  for (let i = 0; i < 1000 && retained.length < 50_000; i++) retained.push({ index: i, payload: new Array<number>(16).fill(i) });
}

const isProfilingError = (code: ProfilingErrorCode) => (error: unknown) => error instanceof ProfilingError && error.code === code;

describe('captureCpuProfile', () => {
  it('returns a gzipped pprof profile whose samples name the function that burned the CPU', async () => {
    const profile = await decode(await whileCapturing(captureCpuProfile({ seconds: 1 }), burnCpuForProfilingTest));

    expect(profile.sample.length).toBeGreaterThan(0);
    expect(profile.sampleType.map((t) => profile.stringTable.strings[Number(t.type)])).toEqual(['samples', 'cpu']);
    expect(profile.stringTable.strings).toContain('burnCpuForProfilingTest');
    expect(sampledFunctionNames(profile)).toContain('burnCpuForProfilingTest');
  });

  it('refuses a second capture while one runs, and takes one again after it ends', async () => {
    const first = captureCpuProfile({ seconds: 1 });

    await expect(captureCpuProfile({ seconds: 1 })).rejects.toSatisfy(isProfilingError(ProfilingErrorCode.CaptureInProgress));
    await expect(captureHeapProfile({ seconds: 1 })).rejects.toSatisfy(isProfilingError(ProfilingErrorCode.CaptureInProgress));
    await first;
    await expect(captureHeapProfile({ seconds: 1 })).resolves.toBeInstanceOf(Buffer);
  });

  it.each([0, 61, 1.5, Number.NaN])('refuses %s seconds', async (seconds) => {
    await expect(captureCpuProfile({ seconds })).rejects.toSatisfy(isProfilingError(ProfilingErrorCode.InvalidDuration));
  });

  it('stops when its signal aborts, rejecting with the reason and freeing the profiler', async () => {
    const controller = new AbortController();
    const capture = captureCpuProfile({ seconds: 60, signal: controller.signal });
    const reason = new Error('client went away');
    controller.abort(reason);

    await expect(capture).rejects.toBe(reason);
    await expect(captureCpuProfile({ seconds: 1 })).resolves.toBeInstanceOf(Buffer);
  });
});

describe('captureHeapProfile', () => {
  it('returns a gzipped pprof profile of the objects allocated and kept during the capture', async () => {
    retained.length = 0;
    const profile = await decode(await whileCapturing(captureHeapProfile({ seconds: 1 }), retainObjectsForProfilingTest));
    retained.length = 0;

    expect(profile.sample.length).toBeGreaterThan(0);
    expect(profile.sampleType.map((t) => profile.stringTable.strings[Number(t.type)])).toEqual(['inuse_space']);
    expect(sampledFunctionNames(profile)).toContain('retainObjectsForProfilingTest');
  });
});

describe('pprofHandlers', () => {
  const handlers = pprofHandlers();

  it('answers a CPU profile as a gzipped pprof download', async () => {
    const response = await handlers['/debug/pprof/profile'](new URLSearchParams('seconds=1'));

    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/octet-stream');
    expect((await decode(response.body)).sampleType).toHaveLength(2);
  });

  it.each(['0', '61', 'abc', '1.5', '-1', ''])('answers 400 to seconds=%s', async (seconds) => {
    const response = await handlers['/debug/pprof/heap'](new URLSearchParams({ seconds }));

    expect(response.status).toBe(400);
    expect(response.body).toMatch(/seconds must be a whole number from 1 to 60/);
  });

  it('answers 409 while another capture runs', async () => {
    const first = handlers['/debug/pprof/heap'](new URLSearchParams('seconds=1'));

    expect((await handlers['/debug/pprof/profile'](new URLSearchParams('seconds=1'))).status).toBe(409);
    expect((await first).status).toBe(200);
  });
});
