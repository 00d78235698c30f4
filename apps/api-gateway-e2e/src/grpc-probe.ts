import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { createRequire } from 'node:module';
import path from 'node:path';
import { protoPath as healthProtoPath } from 'grpc-health-check';

// What an operator's tools do: grpc_health_probe (grpc.health.v1) and grpcurl list (reflection v1).
// Plaintext unless `security` is given (the services' main ports speak only mutual TLS).
export interface ProbeSecurity {
  credentials: grpc.ChannelCredentials;
  options: grpc.ChannelOptions;
}

type UnaryFn = (
  request: object,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response?: { status: string }) => void,
) => void;
type Ctor = new (
  address: string,
  credentials: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
) => grpc.Client & Record<string, UnaryFn>;

const loaderOptions = { keepCase: true, enums: String, defaults: true, oneofs: true };
const health = grpc.loadPackageDefinition(loadSync(healthProtoPath, loaderOptions)) as unknown as {
  grpc: { health: { v1: { Health: Ctor } } };
};
const reflectionProto = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@grpc/reflection')),
  '..',
  'proto',
  'grpc',
  'reflection',
  'v1',
  'reflection.proto',
);
const reflection = grpc.loadPackageDefinition(loadSync(reflectionProto, loaderOptions)) as unknown as {
  grpc: {
    reflection: {
      v1: {
        ServerReflection: new (
          address: string,
          credentials: grpc.ChannelCredentials,
          options?: grpc.ChannelOptions,
        ) => grpc.Client & {
          ServerReflectionInfo(): grpc.ClientDuplexStream<object, { list_services_response?: { service: { name: string }[] } }>;
        };
      };
    };
  };
};

/** grpc.health.v1 Check: 'SERVING', 'NOT_SERVING', or the error code name when the call fails. */
export async function healthStatus(address: string, service = '', security?: ProbeSecurity): Promise<string> {
  const client = new health.grpc.health.v1.Health(address, security?.credentials ?? grpc.credentials.createInsecure(), security?.options);
  try {
    return await new Promise<string>((resolve) => {
      client.Check({ service }, { deadline: Date.now() + 2_000 }, (error, response) => {
        resolve(error ? `ERROR:${grpc.status[error.code]}` : String(response?.status));
      });
    });
  } finally {
    client.close();
  }
}

/** Service names listed by server reflection. */
export async function reflectedServices(address: string, security?: ProbeSecurity): Promise<string[]> {
  const client = new reflection.grpc.reflection.v1.ServerReflection(
    address,
    security?.credentials ?? grpc.credentials.createInsecure(),
    security?.options,
  );
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const call = client.ServerReflectionInfo();
      call.on('data', (message) => {
        resolve((message.list_services_response?.service ?? []).map((s: { name: string }) => s.name));
        call.end();
      });
      call.on('error', reject);
      call.write({ list_services: '' });
    });
  } finally {
    client.close();
  }
}
