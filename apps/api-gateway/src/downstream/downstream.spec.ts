import { type CallOptions, Metadata, status } from '@grpc/grpc-js';
import { EndpointHealth, ERROR_REASON_KEY } from '@overture/grpc';
import { createCallPolicy, RetryBudget } from '@overture/resilience';
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

/** Endpoint health in which replica `b` has just answered well (or none, when `healthyOther` is false). */
function endpointHealth(healthyOther: boolean): EndpointHealth {
  const health = new EndpointHealth({ service: 'echo', stallMs: 500, failuresToEject: 3, baseEjectionMs: 1_000, maxEjectionMs: 10_000 });
  health.setAddresses(['a', 'b']);
  if (healthyOther) health.ended('b', health.started('b'), status.OK, new Metadata(), true);
  return health;
}

function downstream(
  answer: (attempt: number) => Observable<{ text: string }>,
  options: { healthyOther?: boolean; budget?: RetryBudget } = {},
) {
  const received: Received[] = [];
  const service: EchoClient = {
    echo: (_request, metadata, callOptions) => {
      received.push({ metadata, deadline: Number(callOptions.deadline) });
      return answer(received.length);
    },
  };
  const policy = createCallPolicy({ name: 'echo', breaker: { consecutiveFailures: 3, halfOpenAfterMs: 60_000 } });
  const budget = options.budget ?? new RetryBudget({ dependency: 'echo', ratio: 0.2, minPerSecond: 10, maxBalance: 100 });
  const client = { service, endpoints: endpointHealth(options.healthyOther ?? false), close: () => undefined };
  const echo = new Downstream<EchoClient>('echo', client, policy, 1_000, { attemptTimeoutMs: 400, budget });
  const call = (ctx: { requestId: string; authorization?: string; clientDeadline?: number }) =>
    echo.call(ctx, (c, md, opts) => c.echo({ text: 'hi' }, md, opts));
  const read = (ctx: { requestId: string; clientDeadline?: number }) => echo.read(ctx, (c, md, opts) => c.echo({ text: 'hi' }, md, opts));
  return { call, read, received, policy };
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
  it('retries a read that a replica answered UNAVAILABLE once, within the same deadline', async () => {
    const { read, received } = downstream((n) => (n === 1 ? throwError(() => grpcError(status.UNAVAILABLE)) : of({ text: 'hi' })));
    const before = Date.now();
    await expect(read({ requestId: 'r' })).resolves.toEqual({ text: 'hi' });
    expect(received).toHaveLength(2);
    expect(received[1]?.deadline).toBeLessThanOrEqual(before + 1_000 + 50);
  });

  it("gives a read's first attempt a deadline of its own, and the retry what is left of the call's", async () => {
    const { read, received } = downstream((n) => (n === 1 ? throwError(() => grpcError(status.DEADLINE_EXCEEDED)) : of({ text: 'hi' })));
    const before = Date.now();
    await expect(read({ requestId: 'r' })).resolves.toEqual({ text: 'hi' });
    expect(received).toHaveLength(2);
    expect(received[0]?.deadline).toBeLessThanOrEqual(Date.now() + 400);
    expect(received[1]?.deadline).toBeGreaterThanOrEqual(before + 1_000);
  });

  it('retries a read at most once', async () => {
    const { read, received } = downstream(() => throwError(() => grpcError(status.UNAVAILABLE)));
    expect(await failure(read({ requestId: 'r' }))).toMatchObject({ code: status.UNAVAILABLE });
    expect(received).toHaveLength(2);
  });

  it('never retries a write', async () => {
    const { call, received } = downstream(() => throwError(() => grpcError(status.UNAVAILABLE)));
    expect(await failure(call({ requestId: 'r' }))).toMatchObject({ code: status.UNAVAILABLE });
    expect(received).toHaveLength(1);
  });

  it('does not retry a read once the retry budget is spent', async () => {
    const budget = new RetryBudget({ dependency: 'echo', ratio: 0, minPerSecond: 0, maxBalance: 1 });
    const { read, received } = downstream(() => throwError(() => grpcError(status.UNAVAILABLE)), { budget });
    await failure(read({ requestId: 'r' }));
    await failure(read({ requestId: 'r' }));
    expect(received).toHaveLength(3);
  });

  it('keeps the breaker closed while another replica serves well, and opens it when none does', async () => {
    const sick = downstream(() => throwError(() => grpcError(status.DEADLINE_EXCEEDED)), { healthyOther: true });
    for (let i = 0; i < 5; i++) await failure(sick.call({ requestId: 'r' }));
    expect(sick.policy.state).toBe('closed');
    const down = downstream(() => throwError(() => grpcError(status.DEADLINE_EXCEEDED)), { healthyOther: false });
    for (let i = 0; i < 3; i++) await failure(down.call({ requestId: 'r' }));
    expect(down.policy.state).toBe('open');
  });
});
