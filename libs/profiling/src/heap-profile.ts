import { Session } from 'node:inspector/promises';
import type { HeapProfiler } from 'node:inspector';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Profile } from 'pprof-format';
import { assertSeconds, exclusively, wait } from './capture-limits.js';
import type { CaptureOptions } from './cpu-profile.js';
import { PprofBuilder } from './pprof-builder.js';

const gzipAsync = promisify(gzip);

/** V8's default: one sample per 32 KiB allocated on average. */
const SAMPLING_INTERVAL_BYTES = 32 * 1024;

/**
 * Runs V8's sampling heap profiler for `seconds` and returns, as gzipped pprof (profile.proto), the
 * objects allocated in that time that are still alive at its end, by allocating stack: sample type
 * inuse_space/bytes (V8's estimate from its samples). What lives on across the window is what a leak
 * looks like; a single capture says nothing of objects allocated before it started. Refuses a
 * duration outside 1–60 s and a capture while another one runs in this process.
 */
export async function captureHeapProfile({ seconds, signal }: CaptureOptions): Promise<Buffer> {
  assertSeconds(seconds);
  signal?.throwIfAborted();
  return exclusively('heap', async () => {
    const session = new Session();
    session.connect();
    try {
      await session.post('HeapProfiler.enable');
      const startNanos = BigInt(Date.now()) * 1_000_000n;
      const started = process.hrtime.bigint();
      await session.post('HeapProfiler.startSampling', { samplingInterval: SAMPLING_INTERVAL_BYTES });
      let profile: HeapProfiler.SamplingHeapProfile;
      try {
        await wait(seconds, signal);
        ({ profile } = await session.post('HeapProfiler.getSamplingProfile'));
      } finally {
        // Stopped on abort too: sampling left on would cost every allocation for good.
        await session.post('HeapProfiler.stopSampling');
      }
      return await gzipAsync(toPprof(profile, startNanos, process.hrtime.bigint() - started).encode());
    } finally {
      session.disconnect();
    }
  });
}

function toPprof(profile: HeapProfiler.SamplingHeapProfile, startNanos: bigint, durationNanos: bigint): Profile {
  const builder = new PprofBuilder([['inuse_space', 'bytes']]);
  // Depth first from V8's synthetic (root), which is left out of the stacks.
  const walk = (node: HeapProfiler.SamplingHeapProfileNode, parents: number[]): void => {
    const stack = [builder.locationOf(node.callFrame), ...parents];
    if (node.selfSize > 0) builder.addSample(stack, [node.selfSize]);
    for (const child of node.children) walk(child, stack);
  };
  for (const child of profile.head.children) walk(child, []);
  return builder.build({ startNanos, durationNanos, periodType: ['space', 'bytes'], period: SAMPLING_INTERVAL_BYTES });
}
