import { type CallOptions, Metadata, status } from '@grpc/grpc-js';
import { ERROR_REASON_KEY } from '@overture/grpc';
import { createCallPolicy } from '@overture/resilience';
import { type Observable, of, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { DownstreamError } from './downstream-error.js';
import { Downstream, MIN_CALL_BUDGET_MS } from './downstream.js';

interface EchoClient {
  echo(request: { text: string }, metadata: Metadata, options: CallOptions): Observable<{ text: string }>;
}

interface Received {
  metadata: Metadata;
  deadline: number;
}

function grpcError(code: status, reason?: string): Error {
  const metadata = new Metadata();
  if (reason) metadata.set(ERROR_REASON_KEY, reason);
  return Object.assign(new Error(`${code}`), { code, details: `details ${code}`, metadata });
}

function downstream(answer: () => Observable<{ text: string }>) {
  const received: Received[] = [];
  const service: EchoClient = {
    echo: (_request, metadata, options) => {
      received.push({ metadata, deadline: Number(options.deadline) });
      return answer();
    },
  };
  const policy = createCallPolicy({ name: 'echo', breaker: { consecutiveFailures: 3, halfOpenAfterMs: 60_000 } });
  const echo = new Downstream<EchoClient>('echo', { service, close: () => undefined }, policy, 1_000);
  const call = (ctx: { requestId: string; authorization?: string; clientDeadline?: number }) =>
    echo.call(ctx, (c, md, opts) => c.echo({ text: 'hi' }, md, opts));
  return { call, received, policy };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('Downstream', () => {
  it('sends the request id, the credentials and a deadline with every call', async () => {
    const { call, received } = downstream(() => of({ text: 'hi' }));
    const before = Date.now();
    await expect(call({ requestId: 'req-1', authorization: 'Bearer t' })).resolves.toEqual({ text: 'hi' });
    expect(received[0]?.metadata.get('x-request-id')).toEqual(['req-1']);
    expect(received[0]?.metadata.get('authorization')).toEqual(['Bearer t']);
    expect(received[0]?.deadline).toBeGreaterThanOrEqual(before + 1_000);
    expect(received[0]?.deadline).toBeLessThanOrEqual(Date.now() + 1_000);
  });

  it("uses the client's deadline when it is sooner, never a later one", async () => {
    const { call, received } = downstream(() => of({ text: 'hi' }));
    const soon = Date.now() + 300;
    await call({ requestId: 'r', clientDeadline: soon });
    await call({ requestId: 'r', clientDeadline: Date.now() + 60_000 });
    expect(received[0]?.deadline).toBe(soon);
    expect(received[1]?.deadline).toBeLessThanOrEqual(Date.now() + 1_000);
  });

  it(`gives a call at least ${MIN_CALL_BUDGET_MS} ms however small the client's remaining budget`, async () => {
    const { call, received } = downstream(() => of({ text: 'hi' }));
    const before = Date.now();
    await call({ requestId: 'r', clientDeadline: before + 2 });
    expect(received[0]?.deadline).toBeGreaterThanOrEqual(before + MIN_CALL_BUDGET_MS);
    expect(received[0]?.deadline).toBeLessThanOrEqual(Date.now() + MIN_CALL_BUDGET_MS);
  });

  it('turns a service answer into a DownstreamError with the reason from the trailers', async () => {
    const { call } = downstream(() => throwError(() => grpcError(status.NOT_FOUND, 'TRACK_NOT_FOUND')));
    const error = await failure(call({ requestId: 'r' }));
    expect(error).toBeInstanceOf(DownstreamError);
    expect(error).toMatchObject({ service: 'echo', code: status.NOT_FOUND, reason: 'TRACK_NOT_FOUND', details: 'details 5' });
  });

  it('stops calling a service that keeps failing, answering UNAVAILABLE at once', async () => {
    const { call, received, policy } = downstream(() => throwError(() => grpcError(status.UNAVAILABLE)));
    for (let i = 0; i < 3; i++) await failure(call({ requestId: 'r' }));
    expect(policy.state).toBe('open');
    const error = await failure(call({ requestId: 'r' }));
    expect(received).toHaveLength(3);
    expect(error).toMatchObject({ service: 'echo', code: status.UNAVAILABLE, reason: undefined });
  });

  it('keeps calling a service whose answers are throttled sign-ins (a domain answer, not a failure)', async () => {
    const { call, received, policy } = downstream(() =>
      throwError(() => grpcError(status.RESOURCE_EXHAUSTED, 'TOO_MANY_SIGN_IN_ATTEMPTS')),
    );
    for (let i = 0; i < 10; i++) {
      const error = await failure(call({ requestId: 'r' }));
      expect(error).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'TOO_MANY_SIGN_IN_ATTEMPTS' });
    }
    expect(policy.state).toBe('closed');
    expect(received).toHaveLength(10);
  });

  it("does not count deadlines the client's own short budget caused against the service", async () => {
    const { call, received, policy } = downstream(() => throwError(() => grpcError(status.DEADLINE_EXCEEDED)));
    for (let i = 0; i < 5; i++) {
      const error = await failure(call({ requestId: 'r', clientDeadline: Date.now() + 50 }));
      expect(error).toMatchObject({ code: status.DEADLINE_EXCEEDED, reason: 'REQUEST_TIMEOUT' });
    }
    expect(policy.state).toBe('closed');
    expect(received).toHaveLength(5);
  });

  it('does not call at all once the client deadline has passed', async () => {
    const { call, received } = downstream(() => of({ text: 'hi' }));
    const error = await failure(call({ requestId: 'r', clientDeadline: Date.now() - 1 }));
    expect(error).toMatchObject({ code: status.DEADLINE_EXCEEDED, reason: 'REQUEST_TIMEOUT' });
    expect(received).toHaveLength(0);
  });

  it('lets an error that is not a gRPC failure through unchanged', async () => {
    const bug = new TypeError('bug');
    const { call } = downstream(() => throwError(() => bug));
    expect(await failure(call({ requestId: 'r' }))).toBe(bug);
  });
});
