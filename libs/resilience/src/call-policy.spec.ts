import { Metadata, status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BulkheadFullError } from './bulkhead-full.error.js';
import { createCallPolicy } from './call-policy.js';
import { CircuitOpenError } from './circuit-open.error.js';

function grpcError(code: status, reason?: string): Error & { code: status; metadata: Metadata } {
  const metadata = new Metadata();
  // The key libs/grpc's services put their reason under (ERROR_REASON_KEY).
  if (reason) metadata.set('overture-error-reason', reason);
  return Object.assign(new Error(`${status[code]}: test`), { code, metadata });
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const HALF_OPEN_AFTER_MS = 5_000;

function newPolicy() {
  return createCallPolicy({
    name: 'metadata',
    breaker: { halfOpenAfterMs: HALF_OPEN_AFTER_MS, consecutiveFailures: 3 },
  });
}

describe('createCallPolicy', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('passes results and errors through while closed', async () => {
    const policy = newPolicy();
    await expect(policy.execute(async () => 'ok')).resolves.toBe('ok');
    const unavailable = grpcError(status.UNAVAILABLE);
    await expect(policy.execute(() => Promise.reject(unavailable))).rejects.toBe(unavailable);
    expect(policy.state).toBe('closed');
  });

  it('opens after N consecutive UNAVAILABLE failures and then rejects without calling', async () => {
    const policy = newPolicy();
    let calls = 0;
    const failing = async (): Promise<never> => {
      calls++;
      throw grpcError(status.UNAVAILABLE);
    };
    for (let i = 0; i < 3; i++) {
      await expect(policy.execute(failing)).rejects.toMatchObject({ code: status.UNAVAILABLE });
    }
    expect(policy.state).toBe('open');

    const rejection = policy.execute(failing);
    await expect(rejection).rejects.toBeInstanceOf(CircuitOpenError);
    await expect(rejection).rejects.toMatchObject({ code: status.UNAVAILABLE, message: expect.stringContaining('metadata') });
    expect(calls).toBe(3);
  });

  it.each([
    [status.DEADLINE_EXCEEDED, undefined],
    [status.UNAVAILABLE, 'KEYS_NOT_LOADED'],
    [status.INTERNAL, undefined],
    [status.UNKNOWN, undefined],
    [status.RESOURCE_EXHAUSTED, undefined],
    [status.RESOURCE_EXHAUSTED, 'OVERLOADED'],
  ])('counts code %i with reason %s as a failure of the service', async (code, reason) => {
    const policy = newPolicy();
    for (let i = 0; i < 3; i++) {
      await expect(policy.execute(() => Promise.reject(grpcError(code, reason)))).rejects.toMatchObject({ code });
    }
    expect(policy.state).toBe('open');
  });

  it.each([
    [status.RESOURCE_EXHAUSTED, 'TOO_MANY_SIGN_IN_ATTEMPTS'],
    [status.INTERNAL, 'INTERNAL'],
    [status.UNKNOWN, 'INVALID_CURSOR'],
  ])('never opens on code %i with the domain reason %s, however many come in a row', async (code, reason) => {
    const policy = newPolicy();
    let calls = 0;
    for (let i = 0; i < 20; i++) {
      const answer = grpcError(code, reason);
      await expect(
        policy.execute(async () => {
          calls++;
          throw answer;
        }),
      ).rejects.toBe(answer);
    }
    expect(calls).toBe(20);
    expect(policy.state).toBe('closed');
  });

  it('a throttled answer between service failures resets their count', async () => {
    const policy = newPolicy();
    const failures = [
      grpcError(status.UNAVAILABLE),
      grpcError(status.UNAVAILABLE),
      grpcError(status.RESOURCE_EXHAUSTED, 'TOO_MANY_SIGN_IN_ATTEMPTS'),
    ];
    for (const error of [...failures, ...failures]) {
      await expect(policy.execute(() => Promise.reject(error))).rejects.toBe(error);
    }
    expect(policy.state).toBe('closed');
  });

  it('never opens on NOT_FOUND or INVALID_ARGUMENT answers', async () => {
    const policy = newPolicy();
    let calls = 0;
    for (const code of Array<status>(10).fill(status.NOT_FOUND).concat(status.INVALID_ARGUMENT)) {
      const answer = grpcError(code);
      await expect(
        policy.execute(async () => {
          calls++;
          throw answer;
        }),
      ).rejects.toBe(answer);
    }
    expect(calls).toBe(11);
    expect(policy.state).toBe('closed');
  });

  it('treats an answer as proof of health: it resets the consecutive count', async () => {
    const policy = newPolicy();
    const codes = [status.UNAVAILABLE, status.UNAVAILABLE, status.NOT_FOUND, status.UNAVAILABLE, status.UNAVAILABLE];
    for (const code of codes) {
      await expect(policy.execute(() => Promise.reject(grpcError(code)))).rejects.toMatchObject({ code });
    }
    expect(policy.state).toBe('closed');
  });

  it('does not count errors without a gRPC code', async () => {
    const policy = newPolicy();
    for (let i = 0; i < 5; i++) {
      await expect(policy.execute(() => Promise.reject(new TypeError('bug')))).rejects.toBeInstanceOf(TypeError);
    }
    expect(policy.state).toBe('closed');
  });

  it('after the timeout lets one probe through, holds other callers, and closes on success', async () => {
    const policy = newPolicy();
    for (let i = 0; i < 3; i++) {
      await expect(policy.execute(() => Promise.reject(grpcError(status.UNAVAILABLE)))).rejects.toBeDefined();
    }
    await expect(policy.execute(async () => 'too early')).rejects.toBeInstanceOf(CircuitOpenError);

    vi.advanceTimersByTime(HALF_OPEN_AFTER_MS);
    const probe = deferred<string>();
    let probeCalls = 0;
    const probeResult = policy.execute(() => {
      probeCalls++;
      return probe.promise;
    });
    expect(policy.state).toBe('half-open');

    let followerCalls = 0;
    const followerResult = policy.execute(async () => {
      followerCalls++;
      return 'follower';
    });
    // Let any eagerly scheduled work run: the follower must still be waiting for the probe.
    await vi.runAllTimersAsync();
    expect(followerCalls).toBe(0);

    probe.resolve('probe');
    await expect(probeResult).resolves.toBe('probe');
    await expect(followerResult).resolves.toBe('follower');
    expect(probeCalls).toBe(1);
    expect(followerCalls).toBe(1);
    expect(policy.state).toBe('closed');
  });

  it('reopens when the probe fails', async () => {
    const policy = newPolicy();
    for (let i = 0; i < 3; i++) {
      await expect(policy.execute(() => Promise.reject(grpcError(status.UNAVAILABLE)))).rejects.toBeDefined();
    }
    vi.advanceTimersByTime(HALF_OPEN_AFTER_MS);
    await expect(policy.execute(() => Promise.reject(grpcError(status.UNAVAILABLE)))).rejects.toMatchObject({
      code: status.UNAVAILABLE,
    });
    expect(policy.state).toBe('open');
    await expect(policy.execute(async () => 'still open')).rejects.toBeInstanceOf(CircuitOpenError);
  });

  it('rejects with BulkheadFullError when every slot and queue place is taken, without opening', async () => {
    const policy = createCallPolicy({
      name: 'playback',
      breaker: { halfOpenAfterMs: HALF_OPEN_AFTER_MS, consecutiveFailures: 1 },
      bulkhead: { maxConcurrent: 1, maxQueue: 1 },
    });
    const running = deferred<string>();
    const first = policy.execute(() => running.promise);
    let queuedCalls = 0;
    const queued = policy.execute(async () => {
      queuedCalls++;
      return 'queued';
    });

    const rejected = policy.execute(async () => 'never');
    await expect(rejected).rejects.toBeInstanceOf(BulkheadFullError);
    await expect(rejected).rejects.toMatchObject({
      code: status.RESOURCE_EXHAUSTED,
      message: expect.stringContaining('playback'),
    });
    expect(queuedCalls).toBe(0);
    expect(policy.state).toBe('closed');

    running.resolve('first');
    await expect(first).resolves.toBe('first');
    await expect(queued).resolves.toBe('queued');
  });

  it('hands the caller signal to the call', async () => {
    const policy = newPolicy();
    const controller = new AbortController();
    let seen: AbortSignal | undefined;
    await policy.execute(async (signal) => {
      seen = signal;
    }, controller.signal);
    controller.abort();
    expect(seen?.aborted).toBe(true);
  });
});
