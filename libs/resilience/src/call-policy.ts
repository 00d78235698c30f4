import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  bulkhead,
  circuitBreaker,
  handleWhen,
  noop,
  type IPolicy,
} from 'cockatiel';
import { BulkheadFullError } from './bulkhead-full.error.js';
import { CircuitOpenError } from './circuit-open.error.js';
import { grpcCodeOf, isServiceFailure } from './grpc-code.js';

export interface CallPolicyOptions {
  /** The dependency's name, used in error messages (e.g. `metadata`). */
  name: string;
  breaker: {
    /** How long the breaker stays open before it lets one probe call through. */
    halfOpenAfterMs: number;
    /** Unhealthy failures in a row (no answer in between) that open the breaker. */
    consecutiveFailures: number;
  };
  /** Caps calls in flight; calls over `maxConcurrent` wait in a queue of `maxQueue`. */
  bulkhead?: { maxConcurrent: number; maxQueue: number };
}

export type CallPolicyState = 'closed' | 'open' | 'half-open' | 'isolated';

export interface CallPolicy {
  /**
   * Runs `fn` through the bulkhead and the breaker. `signal` (optional) cancels a call still
   * waiting in the bulkhead queue and is handed to `fn`.
   */
  execute<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T>;
  readonly state: CallPolicyState;
}

// What `fn` produced, as seen by the breaker: a gRPC error that is not a service failure is an
// answer and travels as a value, so the breaker counts it as a success.
type Outcome<T> = { answered: false; value: T } | { answered: true; error: unknown };

/**
 * Guards calls to one dependency with a consecutive-failure circuit breaker and an optional
 * bulkhead. Only failures of the dependency itself count (`isServiceFailure`: UNAVAILABLE,
 * DEADLINE_EXCEEDED, and overload or transport errors without a domain reason); any other gRPC error
 * (NOT_FOUND, a throttled sign-in's RESOURCE_EXHAUSTED with its reason, ...) is a normal answer and
 * resets the count like a success does. Errors without a gRPC code pass through uncounted. While open, calls fail at once with
 * `CircuitOpenError`; after `halfOpenAfterMs` the next call probes the dependency while
 * concurrent callers wait for its outcome. A full bulkhead fails with `BulkheadFullError`, which
 * the breaker never sees. Create one policy per dependency and share it across calls.
 */
export function createCallPolicy(options: CallPolicyOptions): CallPolicy {
  const breaker = circuitBreaker(handleWhen(isServiceFailure), {
    halfOpenAfter: options.breaker.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.breaker.consecutiveFailures),
  });
  // The bulkhead sits outside the breaker: a rejection for local overload says nothing about the
  // dependency's health, and a queued call meets the breaker's state when it actually runs.
  const limiter: IPolicy = options.bulkhead ? bulkhead(options.bulkhead.maxConcurrent, options.bulkhead.maxQueue) : noop;

  async function execute<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    let outcome: Outcome<T>;
    try {
      outcome = await limiter.execute(
        ({ signal: limiterSignal }) =>
          breaker.execute(async ({ signal: callSignal }): Promise<Outcome<T>> => {
            try {
              return { answered: false, value: await fn(callSignal) };
            } catch (error) {
              if (grpcCodeOf(error) !== undefined && !isServiceFailure(error)) return { answered: true, error };
              throw error;
            }
          }, limiterSignal),
        signal,
      );
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw new CircuitOpenError(options.name, { cause: error });
      if (error instanceof BulkheadRejectedError) throw new BulkheadFullError(options.name, { cause: error });
      throw error;
    }
    if (outcome.answered) throw outcome.error;
    return outcome.value;
  }

  return {
    execute,
    get state(): CallPolicyState {
      return stateName(breaker.state);
    },
  };
}

function stateName(state: CircuitState): CallPolicyState {
  switch (state) {
    case CircuitState.Closed:
      return 'closed';
    case CircuitState.Open:
      return 'open';
    case CircuitState.HalfOpen:
      return 'half-open';
    case CircuitState.Isolated:
      return 'isolated';
    default: {
      const unknownState: never = state;
      throw new Error(`unknown circuit state ${String(unknownState)}`);
    }
  }
}
