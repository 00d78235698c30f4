import { setTimeout as sleep } from 'node:timers/promises';
import { ProfilingError, ProfilingErrorCode } from './profiling.error.js';

export const MIN_SECONDS = 1;
export const MAX_SECONDS = 60;

// One capture per process: two would share V8's one profiler of each kind, and each one costs CPU.
let running: string | undefined;

/** Refuses a duration outside MIN_SECONDS..MAX_SECONDS (whole seconds). */
export function assertSeconds(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < MIN_SECONDS || seconds > MAX_SECONDS) {
    throw new ProfilingError(
      ProfilingErrorCode.InvalidDuration,
      `seconds must be a whole number from ${MIN_SECONDS} to ${MAX_SECONDS}, got ${String(seconds)}`,
    );
  }
}

/** Runs `capture` unless another capture is running in this process, which it refuses. */
export async function exclusively<T>(kind: string, capture: () => Promise<T>): Promise<T> {
  if (running !== undefined) {
    throw new ProfilingError(ProfilingErrorCode.CaptureInProgress, `a ${running} profile is being captured; one capture at a time`);
  }
  running = kind;
  try {
    return await capture();
  } finally {
    running = undefined;
  }
}

/** Waits `seconds`, or rejects with the signal's reason as soon as it aborts. */
export async function wait(seconds: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(seconds * 1000, undefined, { signal });
  } catch (error) {
    throw signal?.aborted ? signal.reason : error;
  }
}
