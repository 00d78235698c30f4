import { env, grpcServiceConfig } from '@overture/config';
import { identityConfig } from '@overture/identity';
import { z } from 'zod';

export const recommendationConfigSchema = z.object({
  ...grpcServiceConfig,
  ...identityConfig,
  GRPC_LISTEN: grpcServiceConfig.GRPC_LISTEN.default('127.0.0.1:50054'),
  /** The metadata service, source of the track features this service copies. */
  METADATA_GRPC_URL: env.grpcTarget().default('127.0.0.1:50052'),
  /** Deadline of each call to metadata. */
  DOWNSTREAM_DEADLINE_MS: env.positiveInt().default(2_000),
});

export type RecommendationConfig = z.output<typeof recommendationConfigSchema>;
