import { z } from 'zod';
import { idempotencyKeyField } from '@overture/idempotency';
import { ROLES } from '@overture/identity';
import { normalizeEmail } from './email.js';

/** A syntactically valid address of at most 254 characters, normalised. */
export const emailSchema = z
  .string()
  .transform(normalizeEmail)
  .pipe(z.email({ message: 'must be an email address' }).max(254, 'at most 254 characters'));

/** The end client's address as the gateway saw it (empty when the caller has none). */
const clientAddress = z
  .string()
  .max(64, 'at most 64 characters')
  .optional()
  .transform((v) => v || undefined);

export const registerSchema = z.object({
  email: emailSchema,
  password: z.string().min(8, 'at least 8 characters').max(128, 'at most 128 characters'),
  displayName: z
    .string()
    .trim()
    .min(1, 'is required')
    .max(64, 'at most 64 characters')
    .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters'),
  clientAddress,
  idempotencyKey: idempotencyKeyField,
});

export const getUserSchema = z.object({ userId: z.uuid({ message: 'must be a user id (UUID)' }) });

export type RegisterInput = z.output<typeof registerSchema>;

const newPassword = z.string().min(8, 'at least 8 characters').max(128, 'at most 128 characters');
const userId = z.uuid({ message: 'must be a user id (UUID)' });

export const changePasswordSchema = z.object({
  userId,
  currentPassword: z.string().min(1, 'is required').max(128, 'at most 128 characters'),
  newPassword,
  clientAddress,
});

export const deleteAccountSchema = z.object({
  userId,
  password: z.string().min(1, 'is required').max(128, 'at most 128 characters'),
  clientAddress,
});

export const changeRoleSchema = z.object({
  userId,
  role: z.enum(ROLES, { message: `must be one of ${ROLES.join(', ')}` }),
});
