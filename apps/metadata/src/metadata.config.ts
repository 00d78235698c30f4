import { grpcServiceConfig } from '@overture/config';
import { z } from 'zod';

export const metadataConfigSchema = z.object({
  ...grpcServiceConfig,
  GRPC_LISTEN: grpcServiceConfig.GRPC_LISTEN.default('127.0.0.1:50052'),
});

export type MetadataConfig = z.output<typeof metadataConfigSchema>;
