import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

export interface RequestContext {
  requestId: string;
}

export const REQUEST_ID_HEADER = 'x-request-id';

const storage = new AsyncLocalStorage<RequestContext>();

/** Per-request values that follow the request through every await, read by the logger. */
export const requestContext = {
  run<T>(ctx: RequestContext, fn: () => T): T {
    return storage.run(ctx, fn);
  },
  get(): RequestContext | undefined {
    return storage.getStore();
  },
};

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
