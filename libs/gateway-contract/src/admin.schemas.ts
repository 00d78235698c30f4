import { z } from 'zod';

const role = z.enum(['listener', 'premium', 'curator', 'admin'], { error: 'must be one of listener, premium, curator, admin' });

export const userRoleParamsSchema = z.strictObject({ user_id: z.uuid('must be a user id (UUID)'), role });
export type UserRoleParams = z.output<typeof userRoleParamsSchema>;

export const roleParamsSchema = z.strictObject({ role });
export type RoleParams = z.output<typeof roleParamsSchema>;

export const rolePermissionsBodySchema = z.strictObject({
  permissions: z.array(z.string().min(1).max(64)).max(100, 'at most 100').describe('The whole new list, e.g. ["catalogue:read"].'),
});
export type RolePermissionsBody = z.output<typeof rolePermissionsBodySchema>;

export const policyViewSchema = z
  .object({
    version: z.number().int().describe('Increases with every policy change.'),
    roles: z.record(z.string(), z.array(z.string())).describe('Permissions per role.'),
    permissions: z.array(z.string()).describe('Every permission a role may be given.'),
  })
  .meta({ id: 'Policy' });
export type PolicyView = z.output<typeof policyViewSchema>;

export const securityEventsQuerySchema = z.strictObject({
  user_id: z.uuid('must be a user id (UUID)').optional(),
  limit: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1).max(500).default(100),
});
export type SecurityEventsQuery = z.output<typeof securityEventsQuerySchema>;

export const securityEventsViewSchema = z
  .object({
    events: z.array(
      z.object({
        id: z.uuid(),
        occurred_at: z.string(),
        kind: z.string().describe('SIGN_IN, SIGN_IN_FAILED, SIGN_IN_THROTTLED, REFRESH_TOKEN_REUSED, ROLE_GRANTED, …'),
        user_id: z.string().nullable(),
        actor_user_id: z.string().nullable(),
        session_id: z.string().nullable(),
        client_address: z.string().nullable(),
        detail: z.record(z.string(), z.unknown()),
      }),
    ),
  })
  .meta({ id: 'SecurityEvents' });
export type SecurityEventsView = z.output<typeof securityEventsViewSchema>;
