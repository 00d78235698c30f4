import type { Principal } from '@overture/identity';

export type { Principal };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the access-token guard on routes that require a token. */
    principal?: Principal;
  }
}
