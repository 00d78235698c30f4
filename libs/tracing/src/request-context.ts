import { context, ROOT_CONTEXT, type SpanContext } from '@opentelemetry/api';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export interface RequestContext {
  requestId: string;
  /**
   * When the caller stops waiting (epoch ms): the incoming gRPC call's deadline, or the gateway's
   * budget for the request. Downstream calls and database statements take their own limits from it.
   */
  deadline?: number;
  /**
   * The caller's trace, when this process serves the call without a span of its own (the trace is
   * not sampled): log lines and downstream calls carry its id (see serverRpcTrace).
   */
  trace?: SpanContext;
}

export const REQUEST_ID_HEADER = 'x-request-id';

const storage = new AsyncLocalStorage<RequestContext>();

/** Per-request values that follow the request through every await, read by the logger. */
export const requestContext = {
  run<A extends unknown[], T>(ctx: RequestContext, fn: (...args: A) => T, ...args: A): T {
    return storage.run(ctx, fn, ...args);
  },
  get(): RequestContext | undefined {
    return storage.getStore();
  },
};

/**
 * Runs `fn` outside any request and its trace. Background work started while serving a call (a
 * relay woken by a commit, a sync scheduled by an ingestion) would otherwise inherit the caller's
 * request id, span and deadline, and give up when the caller's budget runs out.
 */
export function outsideRequest<T>(fn: () => T): T {
  return storage.exit(() => context.with(ROOT_CONTEXT, fn));
}

/**
 * Milliseconds left of the current request's budget (negative once it has passed), or undefined
 * outside a request or when the caller set no deadline.
 */
export function remainingBudgetMs(now = Date.now()): number | undefined {
  const deadline = storage.getStore()?.deadline;
  return deadline === undefined ? undefined : deadline - now;
}

export function newRequestId(): string {
  return randomUUID();
}

// Short and free of spaces, quotes and control characters, so a client cannot forge log fields
// or bloat every log line of the request.
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The request id to use for an incoming call: the client's own (`x-request-id` header or gRPC
 * metadata value) when it is a short token of safe characters, otherwise a new random UUID.
 */
export function acceptRequestId(value: unknown): string {
  return typeof value === 'string' && CLIENT_REQUEST_ID.test(value) ? value : newRequestId();
}
