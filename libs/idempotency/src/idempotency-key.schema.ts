import { z } from 'zod';

/**
 * The optional key field of a write request: 1–255 characters of a URL- and header-safe set, as
 * the gateway accepts it from clients' Idempotency-Key.
 */
export const idempotencyKeyField = z
  .string()
  .regex(/^[A-Za-z0-9_.:~+/=-]{1,255}$/, 'must be 1 to 255 characters of A-Z a-z 0-9 - _ . : ~ + / =')
  .optional();
