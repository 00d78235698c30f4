import { transportSecurity, type ServiceIdentity, type TransportSecurity, type TransportSettings } from '@overture/grpc';
import path from 'node:path';
import { inject } from 'vitest';

/**
 * The config variables that give `identity` its certificate, issued for this test run by the global
 * setup's local CA (tools/test/global-setup.ts), in the layout a cert-manager Secret has.
 */
export function testTlsEnv(identity: ServiceIdentity): { GRPC_TLS_DIR: string } {
  return { GRPC_TLS_DIR: path.join(inject('grpcTlsRoot'), identity) };
}

export function testTransportSettings(identity: ServiceIdentity): TransportSettings {
  return { ...testTlsEnv(identity), GRPC_TLS_RELOAD_MS: 60_000, GRPC_INSECURE_PLAINTEXT: false };
}

/** Mutual TLS as workload `identity`: for test clients and stand-in servers. */
export function testTransport(identity: ServiceIdentity): TransportSecurity {
  return transportSecurity(testTransportSettings(identity), identity);
}
