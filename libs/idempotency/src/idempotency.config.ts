import { env } from '@overture/config';
import type { z } from 'zod';

/** What every service that honours Idempotency-Key reads from the environment; spread into its config schema. */
export const idempotencyConfig = {
  /** How long a key and its answer are kept: a retry within this window is answered from them. */
  IDEMPOTENCY_RETENTION_HOURS: env
    .positiveInt()
    .max(24 * 30)
    .default(24),
  /** How often expired keys are deleted; 0: never. */
  IDEMPOTENCY_PURGE_INTERVAL_SECONDS: env.nonNegativeInt().default(600),
};

export type IdempotencyConfig = z.output<z.ZodObject<typeof idempotencyConfig>>;

/** Injection token of the service's IdempotencyConfig. */
export const IDEMPOTENCY_CONFIG = Symbol('IDEMPOTENCY_CONFIG');
