import { env, grpcServiceConfig } from '@overture/config';
import { idempotencyConfig } from '@overture/idempotency';
import { z } from 'zod';

const KEY_ENCRYPTION_KEY_BYTES = 32;

/** Base64 (standard alphabet, padding optional) of exactly 32 bytes, e.g. `openssl rand -base64 32`. */
const keyEncryptionKey = z
  .string()
  .trim()
  .refine((value) => /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length === KEY_ENCRYPTION_KEY_BYTES, {
    message: `must be base64 of exactly ${KEY_ENCRYPTION_KEY_BYTES} bytes (e.g. \`openssl rand -base64 32\`)`,
    abort: true,
  })
  .transform((value) => Buffer.from(value, 'base64'))
  // A placeholder such as 32 zero bytes passes the length check but protects nothing.
  .refine((key) => key.some((byte) => byte !== key[0]), 'must be random, not one byte repeated (e.g. all zeros)');

export const authConfigSchema = z.object({
  ...grpcServiceConfig,
  ...idempotencyConfig,
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
  /**
   * Password attempts before each further one is delayed (1 s, 2 s, 4 s …): per account from one
   * client address (the strict limit, so a stranger's guesses do not lock the owner out), per
   * account from all addresses together (a ceiling far above it), and per client address.
   */
  AUTH_SIGNIN_FREE_ATTEMPTS_PER_ACCOUNT: env.positiveInt().max(1_000).default(5),
  AUTH_SIGNIN_ACCOUNT_CEILING: env.positiveInt().max(100_000).default(100),
  AUTH_SIGNIN_FREE_ATTEMPTS_PER_ADDRESS: env.positiveInt().max(100_000).default(50),
  /** A throttle key without attempts for this long starts over. */
  AUTH_SIGNIN_WINDOW_SECONDS: env.positiveInt().max(86_400).default(900),
  /** Registrations per client address within AUTH_REGISTER_WINDOW_SECONDS before each further one is delayed. */
  // Generous, because carrier-grade NAT puts many real users behind one address; the hashing bound
  // below is what keeps a flood from many addresses cheap.
  AUTH_REGISTER_FREE_ATTEMPTS_PER_ADDRESS: env.positiveInt().max(100_000).default(30),
  AUTH_REGISTER_WINDOW_SECONDS: env.positiveInt().max(86_400).default(900),
  // argon2id runs on the libuv pool (4 threads by default) with 19 MiB each: more at once only queues
  // there and holds memory, so a flood of sign-ups or sign-ins waits here and then is turned away.
  /** argon2id hashes computed at once by this process. */
  AUTH_ARGON2_MAX_CONCURRENT: env.positiveInt().max(64).default(4),
  /** Password checks waiting for a slot; beyond this the call is refused at once (RESOURCE_EXHAUSTED, PASSWORD_HASHING_BUSY). */
  AUTH_ARGON2_MAX_QUEUED: env.nonNegativeInt().max(10_000).default(32),
  /** A session (refresh-token family) ends this long after sign-in, however often it refreshes. */
  AUTH_SESSION_MAX_AGE_SECONDS: z.coerce
    .number()
    .int()
    .min(300)
    .max(365 * 24 * 3600)
    .default(90 * 24 * 3600),
  /** How often each replica purges expired and used refresh tokens, ended sessions, idle throttle rows and old security events; 0 = never. */
  AUTH_PURGE_INTERVAL_SECONDS: env
    .nonNegativeInt()
    .max(7 * 86_400)
    .default(3600),
  /** Used refresh tokens (reuse detection) and ended sessions are kept this long, then purged. */
  AUTH_SESSION_HISTORY_RETENTION_SECONDS: env
    .positiveInt()
    .max(365 * 86_400)
    .default(7 * 86_400),
  /** Security events older than this are purged. */
  AUTH_SECURITY_EVENT_RETENTION_DAYS: env
    .positiveInt()
    .max(10 * 365)
    .default(365),
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
