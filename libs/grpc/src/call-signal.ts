import { CommonReason } from '@overture/contracts';
import { DomainError, ErrorCategory } from './domain-error.js';

/** What `callSignal` needs of a grpc-js server call (Nest passes it to a handler as its third argument). */
export interface CancellableCall {
  once(event: 'cancelled', listener: () => void): unknown;
}

/**
 * A signal that aborts when the gRPC call is cancelled: its client cancelled it, its deadline passed
 * or its connection went. Work the caller no longer waits for can stop on it (metadata's database
 * statements: its StatementRunner), instead of running on and holding its resources.
 */
export function callSignal(call: CancellableCall | undefined): AbortSignal | undefined {
  if (!call) return undefined;
  const controller = new AbortController();
  call.once('cancelled', () => controller.abort(CALL_CANCELLED));
  return controller.signal;
}

// One error for every call: grpc-js emits 'cancelled' when any call's stream closes, answered or not,
// and an error made per call captured a stack trace each time for nothing.
const CALL_CANCELLED = new DomainError(
  ErrorCategory.Cancelled,
  CommonReason.CALL_CANCELLED,
  'the caller cancelled the call or its deadline passed',
);
