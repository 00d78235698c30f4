import { status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitOpenError } from './circuit-open.error.js';
import { retryIdempotent } from './retry-idempotent.js';

function grpcError(code: status): Error & { code: status } {
  return Object.assign(new Error(`${status[code]}: test`), { code });
}

const options = { attempts: 3, baseDelayMs: 50, maxDelayMs: 1_000 };

describe('retryIdempotent', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retries UNAVAILABLE until the call succeeds', async () => {
    let attempts = 0;
    const result = retryIdempotent(async () => {
      attempts++;
      if (attempts < 3) throw grpcError(status.UNAVAILABLE);
      return 'track';
    }, options);
    await vi.runAllTimersAsync();
    await expect(result).resolves.toBe('track');
    expect(attempts).toBe(3);
  });

  it('gives up after the configured number of attempts with the last error', async () => {
    let attempts = 0;
    const last = grpcError(status.UNAVAILABLE);
    const result = retryIdempotent(
      async () => {
        attempts++;
        throw attempts === 2 ? last : grpcError(status.UNAVAILABLE);
      },
      { ...options, attempts: 2 },
    );
    const assertion = expect(result).rejects.toBe(last);
    await vi.runAllTimersAsync();
    await assertion;
    expect(attempts).toBe(2);
  });

  it.each([status.INVALID_ARGUMENT, status.NOT_FOUND, status.DEADLINE_EXCEEDED, status.INTERNAL])(
    'does not retry code %i',
    async (code) => {
      let attempts = 0;
      const error = grpcError(code);
      const result = retryIdempotent(async () => {
        attempts++;
        throw error;
      }, options);
      const assertion = expect(result).rejects.toBe(error);
      await vi.runAllTimersAsync();
      await assertion;
      expect(attempts).toBe(1);
    },
  );

  it('does not retry an open circuit', async () => {
    let attempts = 0;
    const result = retryIdempotent(async () => {
      attempts++;
      throw new CircuitOpenError('metadata');
    }, options);
    const assertion = expect(result).rejects.toBeInstanceOf(CircuitOpenError);
    await vi.runAllTimersAsync();
    await assertion;
    expect(attempts).toBe(1);
  });

  it('waits no longer than the capped exponential delay between attempts', async () => {
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.999);
    try {
      let attempts = 0;
      const result = retryIdempotent(
        async () => {
          attempts++;
          if (attempts < 3) throw grpcError(status.UNAVAILABLE);
          return 'ok';
        },
        { attempts: 3, baseDelayMs: 100, maxDelayMs: 150 },
      );
      // First backoff is below 100 ms, the second below min(200, 150) ms.
      await vi.advanceTimersByTimeAsync(99);
      expect(attempts).toBe(2);
      await vi.advanceTimersByTimeAsync(149);
      expect(attempts).toBe(3);
      await expect(result).resolves.toBe('ok');
    } finally {
      random.mockRestore();
    }
  });

  it.each([0, 4, 1.5])('rejects %d attempts', async (attempts) => {
    await expect(retryIdempotent(async () => 'x', { ...options, attempts })).rejects.toBeInstanceOf(RangeError);
  });
});
