export { Backoff, type BackoffOptions } from './backoff.js';
export { BulkheadFullError } from './bulkhead-full.error.js';
export { createCallPolicy, type CallPolicy, type CallPolicyOptions, type CallPolicyState } from './call-policy.js';
export { CircuitOpenError } from './circuit-open.error.js';
export { deadlineFrom, remainingBudgetMs } from './deadline.js';
export { isServiceFailure } from './grpc-code.js';
export { mapWithConcurrency } from './map-with-concurrency.js';
export { RetryBudget, type RetryBudgetOptions, type RetryCause } from './retry-budget.js';
export { retryIdempotent, type RetryOptions } from './retry-idempotent.js';
