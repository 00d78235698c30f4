import { type CallOptions, type ChannelOptions, Metadata } from '@grpc/grpc-js';
import { ClientGrpcProxy } from '@nestjs/microservices';
import { PROTO_LOADER_OPTIONS, PROTO_ROOT, type ContractRef } from '@overture/contracts';
import { metricsEnabled } from '@overture/metrics';
import { REQUEST_ID_HEADER, requestContext } from '@overture/tracing';
import path from 'node:path';
import { firstValueFrom, type Observable } from 'rxjs';
import { DEFAULT_ENDPOINT_HEALTH, EndpointHealth, endpointHealthServiceConfig } from './endpoint-health.js';
import { clientCallDurations } from './grpc-metrics.js';
import { clientTelemetry } from './grpc-tracing.js';
import { releaseFinishedCalls } from './release-finished-calls.js';
import type { ServiceIdentity } from './service-identity.js';
import type { TransportSecurity } from './transport-security.js';

// The workload that serves each contract package: the identity its certificate must name.
const SERVER_OF_PACKAGE: Readonly<Record<string, ServiceIdentity>> = {
  'overture.auth.v1': 'auth',
  'overture.metadata.v1': 'metadata',
  'overture.playback.v1': 'playback-queue',
  'overture.recommendation.v1': 'recommendation',
};

/** The service identity that serves `contract`. */
export function serverOf(contract: ContractRef): ServiceIdentity {
  const server = SERVER_OF_PACKAGE[contract.package];
  if (!server) throw new Error(`no Overture service serves ${contract.package}`);
  return server;
}

// Every client balances per call over every address the target resolves to (a headless Service
// in Kubernetes, or `ipv4:a:p,b:p`), round robin with sick replicas left out (`EndpointHealth`),
// instead of grpc-js's default pick_first that pins a client to one pod.
export const CLIENT_CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 2_000,
};

export interface GrpcClientHandle<T> {
  readonly service: T;
  /** The health of each replica the client calls, as its load balancer sees it. */
  readonly endpoints: EndpointHealth;
  close(): void;
}

/**
 * A client for one service of a generated contract, typed by the ts-proto client interface
 * (e.g. `metadataV1.MetadataServiceClient`), over `transport` (mutual TLS: the server must hold the
 * certificate of the service that serves the contract). Calls go out lazily; no connection is made
 * until the first call. Calls are balanced over the target's addresses, leaving out replicas that
 * stall or keep failing (`handle.endpoints`). Every call should carry a deadline: see `withDeadline`. The first client
 * installs `releaseFinishedCalls`, so that a finished call's response dies young. Every call is
 * recorded in `rpc_client_call_duration_seconds`.
 */
export function createGrpcClient<T extends object>(options: {
  contract: ContractRef;
  serviceName: string;
  url: string;
  transport: TransportSecurity;
  /** The client holds long-lived streams: they never answer until they end, so no stall detection. */
  streams?: boolean;
}): GrpcClientHandle<T> {
  releaseFinishedCalls();
  const server = serverOf(options.contract);
  const endpoints = new EndpointHealth({
    ...DEFAULT_ENDPOINT_HEALTH,
    service: server,
    stallMs: options.streams ? 0 : DEFAULT_ENDPOINT_HEALTH.stallMs,
  });
  const balancing = endpointHealthServiceConfig(endpoints);
  const proxy = new ClientGrpcProxy({
    url: options.url,
    package: options.contract.package,
    protoPath: path.join(PROTO_ROOT, options.contract.file),
    loader: PROTO_LOADER_OPTIONS,
    credentials: options.transport.channelCredentials(server),
    // grpc-js takes client interceptors with the channel options (Nest passes them to the client).
    channelOptions: {
      ...CLIENT_CHANNEL_OPTIONS,
      'grpc.service_config': balancing.serviceConfig,
      ...options.transport.channelOptions(server),
      interceptors: [clientTelemetry(metricsEnabled() ? clientCallDurations() : undefined)],
    } as ChannelOptions,
  });
  return {
    service: proxy.getService<T>(options.serviceName),
    endpoints,
    close: () => {
      proxy.close();
      balancing.release();
    },
  };
}

/**
 * Call options whose deadline is `ms` from now, or the deadline of the call being served if that
 * comes sooner: a service never waits on a downstream call longer than its own caller waits for it.
 */
export function withDeadline(ms: number): CallOptions {
  const own = Date.now() + ms;
  const caller = requestContext.get()?.deadline;
  return { deadline: new Date(caller !== undefined && caller < own ? caller : own) };
}

/**
 * Metadata for a downstream call made while serving one: it carries the caller's request id
 * (`x-request-id`), so that the downstream service's log lines carry it too. The trace context
 * (`traceparent`) is added by clientTelemetry.
 */
export function callMetadata(): Metadata {
  const metadata = new Metadata();
  const requestId = requestContext.get()?.requestId;
  if (requestId !== undefined) metadata.set(REQUEST_ID_HEADER, requestId);
  return metadata;
}

/** Awaits a unary call made through a Nest gRPC client. */
export function unary<T>(call: Observable<T>): Promise<T> {
  return firstValueFrom(call);
}
