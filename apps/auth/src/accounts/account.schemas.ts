import { z } from 'zod';
import { normalizeEmail } from './email.js';

/** A syntactically valid address of at most 254 characters, normalised. */
export const emailSchema = z
  .string()
  .transform(normalizeEmail)
  .pipe(z.email({ message: 'must be an email address' }).max(254, 'at most 254 characters'));

export const registerSchema = z.object({
  email: emailSchema,
  password: z.string().min(8, 'at least 8 characters').max(128, 'at most 128 characters'),
  displayName: z
    .string()
    .trim()
    .min(1, 'is required')
    .max(64, 'at most 64 characters')
    .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters'),
});

export const getUserSchema = z.object({ userId: z.uuid({ message: 'must be a user id (UUID)' }) });

export type RegisterInput = z.output<typeof registerSchema>;
