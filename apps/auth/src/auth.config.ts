import { env, grpcServiceConfig } from '@overture/config';
import { z } from 'zod';

const KEY_ENCRYPTION_KEY_BYTES = 32;

/** Base64 (standard alphabet, padding optional) of exactly 32 bytes, e.g. `openssl rand -base64 32`. */
const keyEncryptionKey = z
  .string()
  .trim()
  .refine(
    (value) =>
      /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length === KEY_ENCRYPTION_KEY_BYTES,
    `must be base64 of exactly ${KEY_ENCRYPTION_KEY_BYTES} bytes (e.g. \`openssl rand -base64 32\`)`,
  )
  .transform((value) => Buffer.from(value, 'base64'));

export const authConfigSchema = z.object({
  ...grpcServiceConfig,
  GRPC_LISTEN: grpcServiceConfig.GRPC_LISTEN.default('127.0.0.1:50051'),
  /** `iss` of every access token; verifiers must expect exactly this value. */
  AUTH_ISSUER: z.url().default('https://overture.local/auth'),
  /** `aud` of every access token. */
  AUTH_AUDIENCE: z.string().min(1).default('overture-api'),
  AUTH_ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(600),
  AUTH_REFRESH_TOKEN_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(300)
    .max(365 * 24 * 3600)
    .default(30 * 24 * 3600),
  /** Wraps the signing keys' private halves at rest (AES-256-GCM). Required: there is no safe default. */
  AUTH_KEY_ENCRYPTION_KEY: keyEncryptionKey,
  // OWASP floor for argon2id: 19 MiB and 2 passes with parallelism 1; the ceilings stop a typo from
  // making every sign-in take seconds.
  AUTH_ARGON2_MEMORY_KIB: env.positiveInt().min(19_456).max(1_048_576).default(19_456),
  AUTH_ARGON2_PASSES: env.positiveInt().min(2).max(16).default(2),
  /** Password attempts per account, then per client address, before each further one is delayed (1 s, 2 s, 4 s …). */
  AUTH_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT: env.positiveInt().max(1_000).default(5),
  AUTH_SIGNIN_FREE_ATTEMPTS_PER_ADDRESS: env.positiveInt().max(100_000).default(50),
  /** A throttle key without attempts for this long starts over. */
  AUTH_SIGNIN_WINDOW_SECONDS: env.positiveInt().max(86_400).default(900),
  /** A new signing key is published this long before it signs; longer than every verifier's JWKS refresh interval. */
  AUTH_KEY_PUBLISH_LEAD_SECONDS: env.nonNegativeInt().max(86_400).default(300),
  /** How often each replica re-reads the signing keys (to start signing with a key that has become active). */
  AUTH_KEY_RELOAD_INTERVAL_MS: env.positiveInt().default(30_000),
  /** A new signing key is scheduled when the newest one is this old; 0 turns scheduled rotation off. */
  AUTH_KEY_ROTATION_INTERVAL_HOURS: env.nonNegativeInt().default(30 * 24),
});

export type AuthConfig = z.output<typeof authConfigSchema>;

/** What `main.js migrate` needs: the database, not the key material. */
export const authMigrateConfigSchema = authConfigSchema.pick({ LOG_LEVEL: true, DATABASE_URL: true });
export type AuthMigrateConfig = z.output<typeof authMigrateConfigSchema>;

/** Injection token for the parsed AuthConfig. */
export const AUTH_CONFIG = Symbol('AUTH_CONFIG');

/** What the admin commands (`grant-role`, `revoke-role`) need: the database and the token lifetime. */
export const authAdminConfigSchema = authConfigSchema.pick({ LOG_LEVEL: true, DATABASE_URL: true, AUTH_ACCESS_TOKEN_TTL_SECONDS: true });
export type AuthAdminConfig = z.output<typeof authAdminConfigSchema>;
