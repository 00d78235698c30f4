import { type CallOptions, Metadata, status } from '@grpc/grpc-js';
import type { OnApplicationShutdown } from '@nestjs/common';
import { GatewayReason } from '@overture/contracts';
import { type AttemptRoute, type GrpcClientHandle, readGrpcError, routeAttempt, unary } from '@overture/grpc';
import { CircuitOpenError, isServiceFailure, type CallPolicy, type RetryBudget, type RetryCause } from '@overture/resilience';
import { REQUEST_ID_HEADER } from '@overture/tracing';
import type { Observable } from 'rxjs';
import type { CallContext } from './call-context.js';
import { DownstreamError } from './downstream-error.js';

/** One generated-client call, given the metadata and call options (deadline) to send it with. */
type GrpcCall<T, R> = (service: T, metadata: Metadata, options: CallOptions) => Observable<R>;

// A DEADLINE_EXCEEDED caused by the client's own short budget says nothing about the service's
// health. It is thrown without a gRPC code so that the circuit breaker does not count it.
class ClientBudgetExceeded extends Error {}

// A failure of one replica while another serves well: the service is up, so the breaker must not
// count it. Thrown without a gRPC code for that reason; it leaves as its cause's DownstreamError.
class ReplicaFailure extends Error {}

/**
 * The least time a call gets when the client's budget (`x-request-timeout-ms`) has not run out yet.
 * A budget of a few ms would have every service abandon, and cancel, work it had just started.
 */
export const MIN_CALL_BUDGET_MS = 100;

/** How the gateway retries idempotent reads: the first attempt's own deadline, and the retry budget. */
export interface RetrySettings {
  /** A read's first attempt gets at most this, so that a retry on another replica fits in the call's deadline. */
  readonly attemptTimeoutMs: number;
  readonly budget: RetryBudget;
}

/**
 * Why a read's failed first attempt may be retried elsewhere: the replica was unavailable (down,
 * draining, refusing), or missed the attempt's own deadline, set short to leave time for a retry.
 */
function retryCause(error: unknown, attemptDeadlineOwn: boolean): RetryCause | undefined {
  const code = readGrpcError(error)?.code;
  if (code === status.UNAVAILABLE) return 'unavailable';
  if (code === status.DEADLINE_EXCEEDED && attemptDeadlineOwn) return 'deadline';
  return undefined;
}

/**
 * One downstream gRPC service as the gateway calls it: a client created at boot, behind a circuit
 * breaker, with a deadline and the request's identity on every call. Reads (`read`) that fail on one
 * replica, with UNAVAILABLE or by missing their first attempt's own deadline, are retried once on
 * another replica within the call's deadline and the retry budget; writes (`call`) are never
 * retried. The breaker counts a failure only when no other replica is serving well. Every failure
 * leaves as a `DownstreamError` naming the service, so that one mapper turns it into HTTP.
 */
export class Downstream<T extends object> implements OnApplicationShutdown {
  constructor(
    /** Short name used in errors and logs, e.g. `metadata`. */
    readonly name: string,
    private readonly client: GrpcClientHandle<T>,
    private readonly policy: CallPolicy,
    /** Deadline of each call unless the client asked for a shorter one. */
    private readonly deadlineMs: number,
    private readonly retries: RetrySettings,
  ) {}

  /** A call that changes something: one attempt, never retried. */
  call<R>(ctx: CallContext, call: GrpcCall<T, R>): Promise<R> {
    return this.run(ctx, call, false);
  }

  /** A call that changes nothing (or carries its own idempotency): retried once elsewhere when a replica fails it. */
  read<R>(ctx: CallContext, call: GrpcCall<T, R>): Promise<R> {
    return this.run(ctx, call, true);
  }

  onApplicationShutdown(): void {
    this.client.close();
  }

  private async run<R>(ctx: CallContext, call: GrpcCall<T, R>, idempotent: boolean): Promise<R> {
    const now = Date.now();
    const ownDeadline = now + this.deadlineMs;
    const clientDeadline = ctx.clientDeadline === undefined ? ownDeadline : Math.max(ctx.clientDeadline, now + MIN_CALL_BUDGET_MS);
    const deadline = Math.min(ownDeadline, clientDeadline);
    const clientLimited = deadline < ownDeadline;
    try {
      if (ctx.clientDeadline !== undefined && ctx.clientDeadline <= now) throw new ClientBudgetExceeded();
      return await this.policy.execute(() => this.attempts(ctx, call, deadline, clientLimited, idempotent));
    } catch (error) {
      throw this.downstreamError(error);
    }
  }

  private async attempts<R>(
    ctx: CallContext,
    call: GrpcCall<T, R>,
    deadline: number,
    clientLimited: boolean,
    idempotent: boolean,
  ): Promise<R> {
    // A read's first attempt stops early enough to leave a retry at least MIN_CALL_BUDGET_MS.
    const attemptDeadline = Date.now() + this.retries.attemptTimeoutMs;
    const firstDeadline = idempotent && attemptDeadline <= deadline - MIN_CALL_BUDGET_MS ? attemptDeadline : deadline;
    const first: AttemptRoute = { ownDeadline: firstDeadline < deadline || !clientLimited };
    if (idempotent) this.retries.budget.deposit();
    try {
      return await this.attempt(ctx, call, firstDeadline, first, clientLimited && firstDeadline === deadline);
    } catch (error) {
      const cause = retryCause(error, firstDeadline < deadline);
      if (!idempotent || cause === undefined || deadline - Date.now() < MIN_CALL_BUDGET_MS || !this.retries.budget.tryRetry(cause)) {
        throw this.replicaOrService(error, first);
      }
    }
    const retry: AttemptRoute = { avoid: first.endpoint, ownDeadline: !clientLimited };
    try {
      return await this.attempt(ctx, call, deadline, retry, clientLimited);
    } catch (error) {
      throw this.replicaOrService(error, retry);
    }
  }

  private async attempt<R>(
    ctx: CallContext,
    call: GrpcCall<T, R>,
    deadline: number,
    route: AttemptRoute,
    clientLimited: boolean,
  ): Promise<R> {
    const metadata = this.metadataFor(ctx);
    routeAttempt(metadata, route);
    try {
      return await unary(call(this.client.service, metadata, { deadline: new Date(deadline) }));
    } catch (error) {
      if (clientLimited && readGrpcError(error)?.code === status.DEADLINE_EXCEEDED) throw new ClientBudgetExceeded();
      throw error;
    }
  }

  /** A service failure while another replica serves well is that replica's: hidden from the breaker. */
  private replicaOrService(error: unknown, route: AttemptRoute): unknown {
    if (isServiceFailure(error) && this.client.endpoints.hasHealthyAlternative(route.endpoint))
      return new ReplicaFailure('', { cause: error });
    return error;
  }

  private metadataFor(ctx: CallContext): Metadata {
    const metadata = new Metadata();
    metadata.set(REQUEST_ID_HEADER, ctx.requestId);
    if (ctx.authorization) metadata.set('authorization', ctx.authorization);
    return metadata;
  }

  private downstreamError(error: unknown): unknown {
    if (error instanceof ReplicaFailure) return this.downstreamError(error.cause);
    if (error instanceof ClientBudgetExceeded) {
      return new DownstreamError(
        this.name,
        status.DEADLINE_EXCEEDED,
        GatewayReason.REQUEST_TIMEOUT,
        'the request timeout (x-request-timeout-ms) passed',
      );
    }
    if (error instanceof CircuitOpenError) {
      return new DownstreamError(this.name, status.UNAVAILABLE, undefined, error.message, { cause: error });
    }
    const grpc = readGrpcError(error);
    // Anything else is a bug on this side (e.g. a throwing mapper), left for the problem filter.
    return grpc ? new DownstreamError(this.name, grpc.code, grpc.reason, grpc.details, { cause: error }) : error;
  }
}
