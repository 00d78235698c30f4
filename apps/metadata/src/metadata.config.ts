import { env, grpcServiceConfig } from '@overture/config';
import { identityConfig } from '@overture/identity';
import { z } from 'zod';

export const metadataConfigSchema = z.object({
  ...grpcServiceConfig,
  ...identityConfig,
  GRPC_LISTEN: grpcServiceConfig.GRPC_LISTEN.default('127.0.0.1:50052'),
  /** Tracks kept in each replica's hot-track cache (get and batch get); 0 turns the cache off. */
  TRACK_CACHE_SIZE: env.nonNegativeInt().default(50_000),
});

export type MetadataConfig = z.output<typeof metadataConfigSchema>;

export const METADATA_CONFIG = Symbol('METADATA_CONFIG');
