import { status } from '@grpc/grpc-js';
import { ExponentialBackoff, fullJitterGenerator, handleWhen, retry } from 'cockatiel';
import { CircuitOpenError } from './circuit-open.error.js';
import { grpcCodeOf } from './grpc-code.js';

export interface RetryOptions {
  /** Total attempts including the first, 1 to 3. */
  attempts: number;
  /** Upper bound of the first backoff; each later one doubles, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Handed to `fn`; a failure seen after it aborted is not retried. */
  signal?: AbortSignal;
}

const MAX_ATTEMPTS = 3;

/**
 * Runs `fn` and retries it while it fails with gRPC UNAVAILABLE, the one code that says the call
 * did not reach a server that could act on it; every other error is returned at once. Waits a
 * random delay in [0, min(maxDelayMs, baseDelayMs * 2^n)) between attempts (full jitter), so
 * clients that failed together do not retry together. Use it only for idempotent calls (reads, or
 * writes carrying an idempotency key), at one layer only: not on a channel whose service config
 * already retries. An open circuit (`CircuitOpenError`) is not retried, since it will not have
 * closed by the next attempt.
 */
export async function retryIdempotent<T>(fn: (signal: AbortSignal) => Promise<T>, options: RetryOptions): Promise<T> {
  if (!Number.isInteger(options.attempts) || options.attempts < 1 || options.attempts > MAX_ATTEMPTS) {
    throw new RangeError(`attempts must be an integer from 1 to ${MAX_ATTEMPTS}, got ${options.attempts}`);
  }
  const policy = retry(
    handleWhen((error) => grpcCodeOf(error) === status.UNAVAILABLE && !(error instanceof CircuitOpenError)),
    {
      // cockatiel counts retries, not attempts.
      maxAttempts: options.attempts - 1,
      backoff: new ExponentialBackoff({
        generator: fullJitterGenerator,
        initialDelay: options.baseDelayMs,
        maxDelay: options.maxDelayMs,
      }),
    },
  );
  return policy.execute(({ signal }) => fn(signal), options.signal);
}
