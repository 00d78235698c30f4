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
import { counter, gauge } from '@overture/metrics';
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

// Every policy of the process, by dependency name, for the state gauge read at scrape time.
const policiesByDependency = new Map<string, CallPolicy[]>();

/** `overture_breaker_state`'s value of a state: 0 closed, 1 half-open, 2 open (isolated counts as open). */
function stateValue(state: CallPolicyState): number {
  switch (state) {
    case 'closed':
      return 0;
    case 'half-open':
      return 1;
    case 'open':
    case 'isolated':
      return 2;
    default: {
      const unknownState: never = state;
      throw new Error(`unknown breaker state ${String(unknownState)}`);
    }
  }
}

const breakerMetrics = {
  state: gauge({
    name: 'overture_breaker_state',
    help: 'Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open (the worst of its breakers).',
    labelNames: ['dependency'],
    collect() {
      for (const [dependency, policies] of policiesByDependency) {
        this.set({ dependency }, Math.max(...policies.map((p) => stateValue(p.state))));
      }
    },
  }),
  transitions: counter({
    name: 'overture_breaker_transitions_total',
    help: 'Circuit breaker state changes per dependency, by the state entered (closed, half_open, open).',
    labelNames: ['dependency', 'to'],
  }),
  rejections: counter({
    name: 'overture_breaker_rejections_total',
    help: 'Calls refused at once because the dependency breaker was open.',
    labelNames: ['dependency'],
  }),
};

/**
 * Guards calls to one dependency with a consecutive-failure circuit breaker and an optional
 * bulkhead. Only failures of the dependency itself count (`isServiceFailure`: UNAVAILABLE,
 * DEADLINE_EXCEEDED, and overload or transport errors without a domain reason); any other gRPC error
 * (NOT_FOUND, a throttled sign-in's RESOURCE_EXHAUSTED with its reason, ...) is a normal answer and
 * resets the count like a success does. Errors without a gRPC code pass through uncounted. While open, calls fail at once with
 * `CircuitOpenError`; after `halfOpenAfterMs` the next call probes the dependency while
 * concurrent callers wait for its outcome. A full bulkhead fails with `BulkheadFullError`, which
 * the breaker never sees. Create one policy per dependency and share it across calls: each stays
 * in the `overture_breaker_*` metrics (state, transitions, rejections) for the life of the process.
 */
export function createCallPolicy(options: CallPolicyOptions): CallPolicy {
  const breaker = circuitBreaker(handleWhen(isServiceFailure), {
    halfOpenAfter: options.breaker.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(options.breaker.consecutiveFailures),
  });
  // The bulkhead sits outside the breaker: a rejection for local overload says nothing about the
  // dependency's health, and a queued call meets the breaker's state when it actually runs.
  const dependency = options.name;
  const rejections = breakerMetrics.rejections.labels(dependency);
  breaker.onStateChange((state) => {
    breakerMetrics.transitions.inc({ dependency, to: stateName(state).replace('-', '_') });
  });
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
      if (error instanceof BrokenCircuitError) {
        rejections.inc();
        throw new CircuitOpenError(options.name, { cause: error });
      }
      if (error instanceof BulkheadRejectedError) throw new BulkheadFullError(options.name, { cause: error });
      throw error;
    }
    if (outcome.answered) throw outcome.error;
    return outcome.value;
  }

  const policy: CallPolicy = {
    execute,
    get state(): CallPolicyState {
      return stateName(breaker.state);
    },
  };
  const siblings = policiesByDependency.get(dependency);
  if (siblings) siblings.push(policy);
  else policiesByDependency.set(dependency, [policy]);
  return policy;
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
