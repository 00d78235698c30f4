import { env } from '@overture/config';
import { z } from 'zod';

/** What every service that checks callers reads from the environment; spread into its config schema. */
export const identityConfig = {
  AUTH_GRPC_URL: env.grpcTarget().default('127.0.0.1:50051'),
  /** `iss` and `aud` every access token must carry. */
  AUTH_ISSUER: z.url().default('https://overture.local/auth'),
  AUTH_AUDIENCE: z.string().min(1).default('overture-api'),
  /** How often the signing keys are re-read from auth (besides on a token with an unknown `kid`). */
  JWKS_REFRESH_INTERVAL_MS: env.positiveInt().default(60_000),
};

export type IdentityConfig = z.output<z.ZodObject<typeof identityConfig>>;
