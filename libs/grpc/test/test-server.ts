import { createServer } from 'node:net';
import path from 'node:path';
import { inject } from 'vitest';
import type { ServiceIdentity } from '../src/index.js';

/** A loopback port free right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

// This lib's tests cannot use @overture/testing (it depends on this lib): the same settings by hand.
export function tlsSettings(identity: ServiceIdentity) {
  return { GRPC_TLS_DIR: path.join(inject('grpcTlsRoot'), identity), GRPC_TLS_RELOAD_MS: 60_000, GRPC_INSECURE_PLAINTEXT: false };
}
