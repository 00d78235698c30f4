import { commonConfig, env } from '@overture/config';
import { z } from 'zod';

export const gatewayConfigSchema = z.object({
  ...commonConfig,
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: env.port().default(8080),
  AUTH_GRPC_URL: env.grpcAddress().default('127.0.0.1:50051'),
  METADATA_GRPC_URL: env.grpcAddress().default('127.0.0.1:50052'),
  PLAYBACK_GRPC_URL: env.grpcAddress().default('127.0.0.1:50053'),
  RECOMMENDATION_GRPC_URL: env.grpcAddress().default('127.0.0.1:50054'),
  /** Deadline of each downstream call; a client's `x-request-timeout-ms` may shorten it, never lengthen it. */
  GRPC_DEADLINE_MS: env.positiveInt().default(2_000),
  /** `iss` and `aud` every access token must carry. */
  AUTH_ISSUER: z.url().default('https://overture.local/auth'),
  AUTH_AUDIENCE: z.string().min(1).default('overture-api'),
  /** How often the signing keys are re-read from auth (besides on a token with an unknown `kid`). */
  JWKS_REFRESH_INTERVAL_MS: env.positiveInt().default(60_000),
  /** After SIGTERM: report not ready and keep serving this long, so load balancers stop sending requests. */
  SHUTDOWN_DELAY_MS: env.nonNegativeInt().default(0),
  /** After the delay: how long in-flight requests may take before the process exits anyway. */
  SHUTDOWN_GRACE_MS: env.nonNegativeInt().default(10_000),
});

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;

/** Injection token of the parsed config. */
export const GATEWAY_CONFIG = Symbol('GATEWAY_CONFIG');
