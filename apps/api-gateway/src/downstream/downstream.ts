import { type CallOptions, Metadata, status } from '@grpc/grpc-js';
import type { OnApplicationShutdown } from '@nestjs/common';
import { GatewayReason } from '@overture/contracts';
import { type GrpcClientHandle, readGrpcError, unary } from '@overture/grpc';
import { CircuitOpenError, type CallPolicy } from '@overture/resilience';
import { REQUEST_ID_HEADER } from '@overture/tracing';
import type { Observable } from 'rxjs';
import type { CallContext } from './call-context.js';
import { DownstreamError } from './downstream-error.js';

/** One generated-client call, given the metadata and call options (deadline) to send it with. */
type GrpcCall<T, R> = (service: T, metadata: Metadata, options: CallOptions) => Observable<R>;

// A DEADLINE_EXCEEDED caused by the client's own short budget says nothing about the service's
// health. It is thrown without a gRPC code so that the circuit breaker does not count it.
class ClientBudgetExceeded extends Error {}

/**
 * The least time a call gets when the client's budget (`x-request-timeout-ms`) has not run out yet.
 * A budget of a few ms would have every service abandon, and cancel, work it had just started.
 */
export const MIN_CALL_BUDGET_MS = 100;

/**
 * One downstream gRPC service as the gateway calls it: a client created at boot, behind a circuit
 * breaker, with a deadline and the request's identity on every call. Every failure leaves as a
 * `DownstreamError` naming the service, so that one mapper turns it into HTTP.
 */
export class Downstream<T extends object> implements OnApplicationShutdown {
  constructor(
    /** Short name used in errors and logs, e.g. `metadata`. */
    readonly name: string,
    private readonly client: GrpcClientHandle<T>,
    private readonly policy: CallPolicy,
    /** Deadline of each call unless the client asked for a shorter one. */
    private readonly deadlineMs: number,
  ) {}

  async call<R>(ctx: CallContext, call: GrpcCall<T, R>): Promise<R> {
    const now = Date.now();
    const ownDeadline = now + this.deadlineMs;
    const clientDeadline = ctx.clientDeadline === undefined ? ownDeadline : Math.max(ctx.clientDeadline, now + MIN_CALL_BUDGET_MS);
    const deadline = Math.min(ownDeadline, clientDeadline);
    const clientLimited = deadline < ownDeadline;
    try {
      if (ctx.clientDeadline !== undefined && ctx.clientDeadline <= now) throw new ClientBudgetExceeded();
      return await this.policy.execute(async () => {
        try {
          return await unary(call(this.client.service, this.metadataFor(ctx), { deadline: new Date(deadline) }));
        } catch (error) {
          if (clientLimited && readGrpcError(error)?.code === status.DEADLINE_EXCEEDED) throw new ClientBudgetExceeded();
          throw error;
        }
      });
    } catch (error) {
      throw this.downstreamError(error);
    }
  }

  onApplicationShutdown(): void {
    this.client.close();
  }

  private metadataFor(ctx: CallContext): Metadata {
    const metadata = new Metadata();
    metadata.set(REQUEST_ID_HEADER, ctx.requestId);
    if (ctx.authorization) metadata.set('authorization', ctx.authorization);
    return metadata;
  }

  private downstreamError(error: unknown): unknown {
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
