import type { DynamicModule, LoggerService, Type } from '@nestjs/common';
import type { ContractRef } from '@overture/contracts';
import { createDataSource, runMigrations, type Migration } from '@overture/database';
import { freePort } from '@overture/database/embedded';
import {
  createGrpcClient,
  runGrpcService,
  serverOf,
  type GrpcClientHandle,
  type RunningGrpcService,
  type ServiceIdentity,
} from '@overture/grpc';
import { DataSource } from 'typeorm';
import { testTransport, testTransportSettings } from './test-transport.js';

/** Swallows Nest's log lines in tests; failures still surface as test errors. */
export const quietLogger: LoggerService = {
  log: () => undefined,
  error: () => undefined,
  warn: () => undefined,
  debug: () => undefined,
  verbose: () => undefined,
};

export interface GrpcTestService<C> {
  readonly url: string;
  readonly running: RunningGrpcService;
  readonly client: C;
  readonly dataSource: DataSource;
  stop(): Promise<void>;
}

/** Applies a service's migrations to a (fresh) database. */
export async function migrate(databaseUrl: string, migrations: readonly Migration[]): Promise<void> {
  const dataSource = await createDataSource({ url: databaseUrl, entities: [], migrations: [...migrations] }).initialize();
  try {
    await runMigrations(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/**
 * Starts a service's real gRPC server on a free loopback port, the way `main.js serve` does
 * (mutual TLS, health, reflection, exception filter), and a real gRPC client of its contract that
 * presents the certificate of `caller` (the gateway unless given). For medium tests: the database
 * is real and migrated, the wire is real.
 */
export async function startGrpcTestService<C extends object>(options: {
  module: Type<unknown> | DynamicModule;
  contract: ContractRef;
  serviceName: string;
  listen?: string;
  caller?: ServiceIdentity;
}): Promise<GrpcTestService<C>> {
  const listen = options.listen ?? `127.0.0.1:${await freePort()}`;
  const identity = serverOf(options.contract);
  const running = await runGrpcService({
    identity,
    module: options.module,
    contract: options.contract,
    serviceNames: [`${options.contract.package}.${options.serviceName}`],
    settings: {
      ...testTransportSettings(identity),
      GRPC_LISTEN: listen,
      SHUTDOWN_DELAY_MS: 0,
      SHUTDOWN_GRACE_MS: 2_000,
      GRPC_REFLECTION: true,
      READINESS_EVENT_LOOP_DELAY_MS: 500,
      READINESS_EVENT_LOOP_WINDOW_MS: 10_000,
      READINESS_DB_POOL_EXHAUSTED_MS: 10_000,
    },
    logger: quietLogger,
    readiness: (app) => {
      const dataSource = app.get(DataSource);
      return async () => void (await dataSource.query('SELECT 1'));
    },
  });
  const handle: GrpcClientHandle<C> = createGrpcClient<C>({
    contract: options.contract,
    serviceName: options.serviceName,
    url: listen,
    transport: testTransport(options.caller ?? 'api-gateway'),
  });
  return {
    url: listen,
    running,
    client: handle.service,
    dataSource: running.app.get(DataSource),
    stop: async () => {
      handle.close();
      await running.shutdown('test');
    },
  };
}
