import { Session } from 'node:inspector/promises';
import type { Profiler } from 'node:inspector';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Profile } from 'pprof-format';
import { assertSeconds, exclusively, wait } from './capture-limits.js';
import { PprofBuilder } from './pprof-builder.js';

const gzipAsync = promisify(gzip);

/** V8 samples the main thread every 10 ms (100 Hz, as Go's profiler does): cheap enough to run in production. */
const SAMPLING_INTERVAL_MICROS = 10_000;
/** Frames V8 reports for a thread with nothing to run; they are not CPU time. */
const IDLE_FRAMES = new Set(['(idle)']);

export interface CaptureOptions {
  /** How long to sample, whole seconds from 1 to 60. */
  seconds: number;
  /** Stops the capture early; the returned promise then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Samples this process's JavaScript thread for `seconds` with V8's CPU profiler and returns the
 * profile as gzipped pprof (profile.proto), for `go tool pprof`, Pyroscope or speedscope. Sample
 * types are samples/count and cpu/nanoseconds (samples × the 10 ms interval); idle samples are left
 * out, so the profile shows where the thread spent busy time, (garbage collector) and (program)
 * included. Other threads (libuv's pool, V8's helpers) are not seen. Refuses a duration outside
 * 1–60 s and a capture while another one runs in this process.
 */
export async function captureCpuProfile({ seconds, signal }: CaptureOptions): Promise<Buffer> {
  assertSeconds(seconds);
  signal?.throwIfAborted();
  return exclusively('cpu', async () => {
    const session = new Session();
    session.connect();
    try {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_MICROS });
      const startNanos = BigInt(Date.now()) * 1_000_000n;
      await session.post('Profiler.start');
      let profile: Profiler.Profile;
      try {
        await wait(seconds, signal);
      } finally {
        // Stopped on abort too: a profiler left running would slow the process down for good.
        ({ profile } = await session.post('Profiler.stop'));
      }
      return await gzipAsync(toPprof(profile, startNanos).encode());
    } finally {
      session.disconnect();
    }
  });
}

function toPprof(profile: Profiler.Profile, startNanos: bigint): Profile {
  const builder = new PprofBuilder([
    ['samples', 'count'],
    ['cpu', 'nanoseconds'],
  ]);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const children = new Set(profile.nodes.flatMap((node) => node.children ?? []));
  const periodNanos = SAMPLING_INTERVAL_MICROS * 1000;
  // Depth first from V8's synthetic (root), which is left out of the stacks (leaf first).
  const walk = (node: Profiler.ProfileNode, parents: number[]): void => {
    const stack = [builder.locationOf(node.callFrame), ...parents];
    if (node.hitCount && !IDLE_FRAMES.has(node.callFrame.functionName)) {
      builder.addSample(stack, [node.hitCount, node.hitCount * periodNanos]);
    }
    for (const id of node.children ?? []) {
      const child = byId.get(id);
      if (child) walk(child, stack);
    }
  };
  for (const root of profile.nodes.filter((node) => !children.has(node.id))) {
    for (const id of root.children ?? []) {
      const child = byId.get(id);
      if (child) walk(child, []);
    }
  }
  return builder.build({
    startNanos,
    durationNanos: BigInt(Math.max(0, profile.endTime - profile.startTime)) * 1000n,
    periodType: ['cpu', 'nanoseconds'],
    period: periodNanos,
  });
}
