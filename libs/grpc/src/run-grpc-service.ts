import { Server, ServerCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import type { DynamicModule, INestMicroservice, LoggerService, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { PROTO_LOADER_OPTIONS, PROTO_ROOT, type ContractRef } from '@overture/contracts';
import { GrpcHealth, healthProtoPath, ReadinessMonitor, SaturationMonitor, type ReadinessCheck } from '@overture/health';
import {
  disableMetrics,
  metricsEnabled,
  observeConnectionPool,
  OpsServer,
  startRuntimeMetrics,
  type ConnectionPoolState,
} from '@overture/metrics';
import path from 'node:path';
import { cacheAuthContextPerConnection } from './cache-auth-context.js';
import { GrpcExceptionFilter } from './grpc-exception.filter.js';
import { serverCallMetrics } from './grpc-metrics.js';
import { RequestContextServerGrpc } from './request-context.server.js';
import type { ServiceIdentity } from './service-identity.js';
import { transportSecurity, type TransportSettings } from './transport-security.js';

export interface GrpcServiceSettings extends TransportSettings {
  readonly GRPC_LISTEN: string;
  readonly GRPC_HEALTH_LISTEN?: string | undefined;
  readonly SHUTDOWN_DELAY_MS: number;
  readonly SHUTDOWN_GRACE_MS: number;
  readonly GRPC_REFLECTION: boolean;
  /** The operations port (`/metrics`); none when unset. */
  readonly OPS_LISTEN?: string | undefined;
  /** false: no call, runtime or pool metrics (see disableMetrics). */
  readonly METRICS_ENABLED?: boolean;
  readonly READINESS_EVENT_LOOP_DELAY_MS: number;
  readonly READINESS_EVENT_LOOP_WINDOW_MS: number;
  readonly READINESS_DB_POOL_EXHAUSTED_MS: number;
}

export interface GrpcServiceOptions {
  readonly module: Type<unknown> | DynamicModule;
  /** The workload this is: its certificate must name it. */
  readonly identity: ServiceIdentity;
  readonly contract: ContractRef;
  /** Fully qualified names of the services implemented, e.g. `overture.metadata.v1.MetadataService`. */
  readonly serviceNames: readonly string[];
  readonly settings: GrpcServiceSettings;
  readonly logger: LoggerService;
  /** Builds the readiness check from the started app, e.g. a `SELECT 1` on its DataSource. */
  readonly readiness: (app: INestMicroservice) => ReadinessCheck;
  /**
   * The service's database pool, from the started app: exported as metrics, and readiness fails
   * while it stays exhausted. `name` names it in the metrics (the database's name).
   */
  readonly databasePool?: (app: INestMicroservice) => { readonly name: string; readonly pool: ConnectionPoolState };
}

export interface RunningGrpcService {
  readonly app: INestMicroservice;
  readonly readiness: ReadinessMonitor;
  /** The operations port, when OPS_LISTEN is set: other code may add routes to it. */
  readonly opsServer: OpsServer | undefined;
  /** Drains and stops; resolves when the server and the app are closed. */
  shutdown(signal: string): Promise<void>;
}

// Servers end each connection after ~5 minutes so that clients re-resolve DNS and spread calls over
// replicas that appeared since (grpc-js re-resolves only when a connection drops).
export const SERVER_CHANNEL_OPTIONS: ChannelOptions = {
  'grpc.max_connection_age_ms': 5 * 60_000,
  'grpc.max_connection_age_grace_ms': 30_000,
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 10_000,
  // channelz stays on although nothing reads it (its per-call bookkeeping was ≈ 2 % of a catalogue
  // search's CPU): grpc-js 1.x's forceShutdown destroys only the sessions it tracks for channelz, so
  // without it the shutdown's forced step left in-flight calls running (run-grpc-service.spec.ts).
};

/**
 * Starts a NestJS gRPC microservice the Overture way: every call handled in its request context
 * (RequestContextServerGrpc: request id and deadline), the generated contract, the standard
 * `grpc.health.v1` service driven by a readiness check, server reflection (unless turned off), one
 * exception filter mapping domain errors to statuses, and a graceful shutdown on SIGTERM/SIGINT:
 * report NOT_SERVING, keep serving for SHUTDOWN_DELAY_MS while load balancers notice, let in-flight
 * calls finish for up to SHUTDOWN_GRACE_MS, then force the server down and close the app.
 */
export async function runGrpcService(options: GrpcServiceOptions): Promise<RunningGrpcService> {
  const { settings } = options;
  let grpcServer: Server | undefined;
  // The check needs the started app; until then the service reports NOT_SERVING.
  let check: ReadinessCheck | undefined;
  const readiness = new ReadinessMonitor(() => (check ? check() : Promise.reject(new Error('starting'))));
  const health = new GrpcHealth(options.serviceNames, readiness);
  const transport = transportSecurity(settings, options.identity);
  cacheAuthContextPerConnection();
  if (settings.METRICS_ENABLED === false) disableMetrics();
  startRuntimeMetrics();
  const opsServer = settings.OPS_LISTEN ? new OpsServer() : undefined;
  if (transport.plaintext) {
    options.logger.warn('GRPC_INSECURE_PLAINTEXT: gRPC without TLS, callers unchecked; never run this way in production', 'Transport');
  }

  const app = await NestFactory.createMicroservice<MicroserviceOptions>(options.module, {
    logger: options.logger,
    strategy: new RequestContextServerGrpc({
      url: settings.GRPC_LISTEN,
      package: options.contract.package,
      protoPath: path.join(PROTO_ROOT, options.contract.file),
      loader: PROTO_LOADER_OPTIONS,
      credentials: transport.serverCredentials(),
      gracefulShutdown: true,
      // grpc-js takes server interceptors with the channel options (Nest passes them to the Server).
      channelOptions: { ...SERVER_CHANNEL_OPTIONS, interceptors: metricsEnabled() ? [serverCallMetrics()] : [] } as ChannelOptions,
      onLoadPackageDefinition: (definition: PackageDefinition, server: Server) => {
        grpcServer = server;
        // Registered here, before the server binds: grpc-js refuses new services after start.
        health.addToServer(server);
        if (settings.GRPC_REFLECTION) {
          const healthDefinition = loadSync(healthProtoPath, PROTO_LOADER_OPTIONS);
          new ReflectionService({ ...definition, ...healthDefinition }).addToServer(server);
        }
      },
    }),
  });
  app.useGlobalFilters(new GrpcExceptionFilter());
  await app.init();

  const database = options.databasePool?.(app);
  if (database) observeConnectionPool(database.name, database.pool);
  const saturation = new SaturationMonitor(
    {
      eventLoopDelayMs: settings.READINESS_EVENT_LOOP_DELAY_MS,
      eventLoopWindowMs: settings.READINESS_EVENT_LOOP_WINDOW_MS,
      poolExhaustedMs: settings.READINESS_DB_POOL_EXHAUSTED_MS,
    },
    database?.pool,
  ).start();
  const ownCheck = options.readiness(app);
  check = async () => {
    await ownCheck();
    await saturation.check();
  };
  await readiness.start();
  if (opsServer && settings.OPS_LISTEN) await opsServer.listen(settings.OPS_LISTEN);
  await app.listen();
  const healthServer = settings.GRPC_HEALTH_LISTEN ? await serveHealthOnly(health, settings.GRPC_HEALTH_LISTEN) : undefined;

  let stopping: Promise<void> | undefined;
  const shutdown = (signal: string): Promise<void> => {
    stopping ??= (async () => {
      options.logger.log(`${signal}: not serving; draining in ${settings.SHUTDOWN_DELAY_MS} ms`, 'Shutdown');
      readiness.markDraining();
      await delay(settings.SHUTDOWN_DELAY_MS);
      const forced = setTimeout(() => {
        options.logger.warn(`in-flight calls still running after ${settings.SHUTDOWN_GRACE_MS} ms; forcing`, 'Shutdown');
        grpcServer?.forceShutdown();
      }, settings.SHUTDOWN_GRACE_MS);
      try {
        await app.close();
      } finally {
        clearTimeout(forced);
        healthServer?.forceShutdown();
        saturation.stop();
        await opsServer?.close();
      }
      options.logger.log('stopped', 'Shutdown');
    })();
    return stopping;
  };
  return { app, readiness, opsServer, shutdown };
}

/** Wires SIGTERM and SIGINT to a graceful shutdown, then exits the process. */
export function exitOnSignals(shutdown: (signal: string) => Promise<void>, logger: LoggerService): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      shutdown(signal).then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error), undefined, 'Shutdown');
          process.exit(1);
        },
      );
    });
  }
}

// Health needs no caller identity: it tells nothing but SERVING or NOT_SERVING.
async function serveHealthOnly(health: GrpcHealth, address: string): Promise<Server> {
  const server = new Server();
  health.addToServer(server);
  await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))),
  );
  return server;
}

function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

/**
 * `main.js serve` of a gRPC service: starts it (see runGrpcService), logs where it listens, and on
 * SIGTERM/SIGINT drains it, flushes tracing and exits.
 */
export async function serveGrpcService(
  options: GrpcServiceOptions & { readonly tracing?: { shutdown(): Promise<void> } },
): Promise<RunningGrpcService> {
  const service = await runGrpcService(options);
  options.logger.log(`gRPC listening on ${options.settings.GRPC_LISTEN}`, 'Bootstrap');
  if (options.settings.OPS_LISTEN) options.logger.log(`ops (metrics) listening on ${options.settings.OPS_LISTEN}`, 'Bootstrap');
  exitOnSignals(async (signal) => {
    await service.shutdown(signal);
    await options.tracing?.shutdown();
  }, options.logger);
  return service;
}
