import { ROLES } from '@overture/identity';
import { z } from 'zod';

export const setRolePermissionsSchema = z.object({
  role: z.enum(ROLES, { message: `must be one of ${ROLES.join(', ')}` }),
  // The vocabulary itself is auth's permissions table, checked by the service.
  permissions: z.array(z.string().regex(/^[a-z]+:[a-z]+$/, 'must look like area:action')).max(100, 'at most 100'),
});

export const listSecurityEventsSchema = z.object({
  userId: z.union([z.literal(''), z.uuid({ message: 'must be a user id (UUID)' })]).transform((v) => v || undefined),
  limit: z
    .number()
    .int()
    .min(0)
    .max(500, 'at most 500')
    .transform((v) => v || 100),
});
