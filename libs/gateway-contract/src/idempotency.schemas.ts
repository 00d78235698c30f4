import { z } from 'zod';

/** The request header that makes a write safe to retry (draft-ietf-httpapi-idempotency-key-header). */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/** Sent, as `true`, on an answer that is the stored answer of an earlier request with the same key. */
export const IDEMPOTENT_REPLAYED_HEADER = 'Idempotent-Replayed';

/**
 * `Idempotency-Key`: 1–255 characters of A-Z a-z 0-9 - _ . : ~ + / =, bare or as a structured-field
 * string in double quotes (the draft's form); parsed to the bare key.
 */
export const idempotencyKeyHeaderSchema = z
  .string()
  .transform((value) => (value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value))
  .pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9_.:~+/=-]{1,255}$/, 'must be 1 to 255 characters of A-Z a-z 0-9 - _ . : ~ + / =, optionally in double quotes'),
  )
  .optional()
  .describe(
    'Makes this write safe to retry: a retry with the same key and request within 24 h gets the first answer (with Idempotent-Replayed: true) and changes nothing; ' +
      'the same key with another request is 422, and while the first request is still being processed 409. Use a new random key (e.g. a UUID) per write.',
  );
