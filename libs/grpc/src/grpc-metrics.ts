import { ServerInterceptingCall, status, type ServerInterceptingCallInterface, type ServerInterceptor } from '@grpc/grpc-js';
import { DURATION_BUCKETS, fastHistogram, gauge, type FastHistogram, type HistogramChild } from '@overture/metrics';
import { performance } from 'node:perf_hooks';

type RpcLabel = 'rpc_system_name' | 'rpc_method' | 'rpc_status_code';
const RPC_LABELS: readonly RpcLabel[] = ['rpc_system_name', 'rpc_method', 'rpc_status_code'];

/** Names of the status codes (`OK`, `NOT_FOUND`, …), indexed by code. */
const STATUS_NAMES: readonly string[] = Array.from({ length: 17 }, (_, code) => status[code] ?? String(code));

// Method paths come from the service definitions, but a server also sees the paths of methods it
// does not serve (answered UNIMPLEMENTED): past this many, the rest are one `_OTHER`.
const MAX_METHODS = 200;

/**
 * The children of one RPC duration histogram, by method path then status code, kept so that a call
 * records with two lookups and no allocation.
 */
class RpcDurations {
  private readonly byMethod = new Map<string, HistogramChild[]>();

  constructor(private readonly histogram: FastHistogram<RpcLabel>) {}

  /** The children of a method, by status code; `path` is grpc-js's `/package.Service/Method`. */
  of(path: string): HistogramChild[] {
    let children = this.byMethod.get(path);
    if (!children) {
      const method = this.byMethod.size < MAX_METHODS ? path.replace(/^\//, '') : '_OTHER';
      children = STATUS_NAMES.map((name) => this.histogram.child('grpc', method, name));
      this.byMethod.set(path, children);
    }
    return children;
  }
}

let serverDurations: RpcDurations | undefined;
/** Calls being served right now (read at scrape time). */
let activeServerCalls = 0;
let clientDurations: RpcDurations | undefined;

/** Records a call that started at `startedMs` (performance.now()) and ended with status `code`. */
export function recordCall(children: HistogramChild[], code: number, startedMs: number): void {
  (children[code] ?? (children[status.UNKNOWN] as HistogramChild)).observe((performance.now() - startedMs) / 1_000);
}

/**
 * A grpc-js server interceptor recording every call, unary and streaming, in
 * `rpc_server_call_duration_seconds` (from the call's arrival to its status; a call the client
 * cancels is recorded as CANCELLED), and counts calls in flight in `overture_rpc_server_active_calls`.
 * runGrpcService installs it on every service.
 */
export function serverCallMetrics(): ServerInterceptor {
  serverDurations ??= new RpcDurations(
    fastHistogram({
      name: 'rpc_server_call_duration_seconds',
      help: 'Duration of gRPC calls served, from arrival to status, by method and status.',
      labelNames: RPC_LABELS,
      buckets: DURATION_BUCKETS,
    }),
  );
  gauge({
    name: 'overture_rpc_server_active_calls',
    help: 'gRPC calls being served right now, unary and streaming.',
    collect() {
      this.set(activeServerCalls);
    },
  });
  const durations = serverDurations;
  return (descriptor, call: ServerInterceptingCallInterface) => {
    const children = durations.of(descriptor.path);
    const started = performance.now();
    let done = false;
    activeServerCalls++;
    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onCancel() {
            if (done) return;
            done = true;
            activeServerCalls--;
            recordCall(children, status.CANCELLED, started);
          },
        });
      },
      sendStatus(outcome, next) {
        if (!done) {
          done = true;
          activeServerCalls--;
          recordCall(children, outcome.code, started);
        }
        next(outcome);
      },
    });
  };
}

/**
 * The children of `rpc_client_call_duration_seconds` (from a call's start to the status received,
 * whoever ended it) by method path and status code; clientTelemetry records every call made by a
 * client createGrpcClient built, so the gateway's downstream calls, the services' calls to each
 * other and the identity streams all record.
 */
export function clientCallDurations(): (path: string) => HistogramChild[] {
  clientDurations ??= new RpcDurations(
    fastHistogram({
      name: 'rpc_client_call_duration_seconds',
      help: 'Duration of gRPC calls made, from start to status, by method and status.',
      labelNames: RPC_LABELS,
      buckets: DURATION_BUCKETS,
    }),
  );
  const durations = clientDurations;
  return (path) => durations.of(path);
}
