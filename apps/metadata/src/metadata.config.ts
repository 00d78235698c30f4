import { env, grpcServiceConfig } from '@overture/config';
import { idempotencyConfig } from '@overture/idempotency';
import { identityConfig } from '@overture/identity';
import { z } from 'zod';

export const metadataConfigSchema = z.object({
  ...grpcServiceConfig,
  ...identityConfig,
  ...idempotencyConfig,
  GRPC_LISTEN: grpcServiceConfig.GRPC_LISTEN.default('127.0.0.1:50052'),
  /** Tracks kept in each replica's hot-track cache (get and batch get); 0 turns the cache off. */
  TRACK_CACHE_SIZE: env.nonNegativeInt().default(50_000),
  /**
   * Signs page cursors (HMAC) so clients cannot forge them; the same in every replica, since a
   * client's next page may go to another one. Changing it invalidates the cursors handed out.
   */
  METADATA_CURSOR_KEY: z
    .string({ error: 'is required (e.g. `openssl rand -base64 32`)' })
    .min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 32`)'),
});

export type MetadataConfig = z.output<typeof metadataConfigSchema>;

export const METADATA_CONFIG = Symbol('METADATA_CONFIG');
