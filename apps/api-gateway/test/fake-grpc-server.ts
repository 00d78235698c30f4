import {
  loadPackageDefinition,
  Metadata,
  type GrpcObject,
  type ServiceClientConstructor,
  Server,
  type ServerErrorResponse,
  type status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { type ContractRef, PROTO_LOADER_OPTIONS, PROTO_ROOT } from '@overture/contracts';
import { ERROR_REASON_KEY, serverOf } from '@overture/grpc';
import { testTransport } from '@overture/testing';
import path from 'node:path';

export interface FakeGrpcServer {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * A real gRPC server for one service of a real contract (the .proto files, loaded as the services
 * load them), answering with the given handlers over mutual TLS with the certificate of the service
 * it stands in for, as the gateway calls it.
 */
export async function startFakeGrpcServer(
  contract: ContractRef,
  serviceName: string,
  implementation: UntypedServiceImplementation,
): Promise<FakeGrpcServer> {
  const definition = loadPackageDefinition(loadSync(path.join(PROTO_ROOT, contract.file), PROTO_LOADER_OPTIONS));
  const service = lookup(definition, `${contract.package}.${serviceName}`).service;
  const server = new Server();
  server.addService(service, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', testTransport(serverOf(contract)).serverCredentials(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    url: `127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

/** A failure as an Overture service sends it: status, details and the reason in trailing metadata. */
export function grpcFailure(code: status, reason: string, details: string): ServerErrorResponse {
  const metadata = new Metadata();
  metadata.set(ERROR_REASON_KEY, reason);
  return Object.assign(new Error(details), { code, details, metadata });
}

function lookup(root: GrpcObject, name: string): ServiceClientConstructor {
  let node: unknown = root;
  for (const part of name.split('.')) node = (node as Record<string, unknown>)[part];
  if (typeof node !== 'function' || !('service' in node)) throw new Error(`no service ${name} in the contract`);
  return node as ServiceClientConstructor;
}
