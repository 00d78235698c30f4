import { z } from 'zod';

// Trimmed before it is checked, as auth stores it: a pasted address with a space is still the address.
const email = z.string().trim().pipe(z.email('must be an email address').max(254, 'at most 254 characters'));
// The password policy is auth's; the gateway only bounds what it forwards.
const password = z.string().min(1, 'must not be empty').max(1024, 'at most 1024 characters');

export const registerBodySchema = z.strictObject({
  email,
  password,
  display_name: z.string().trim().min(1, 'must not be empty').max(100, 'at most 100 characters'),
});
export type RegisterBody = z.output<typeof registerBodySchema>;

const passwordGrantSchema = z
  .strictObject({
    grant_type: z.literal('password'),
    username: z.string().min(1).max(254).optional().describe('The account email (OAuth 2.0 name for it).'),
    email: email.optional().describe('Alternative to username.'),
    password,
  })
  .transform((body, ctx) => {
    const login = body.username ?? body.email;
    if (login === undefined || (body.username !== undefined && body.email !== undefined)) {
      ctx.addIssue({ code: 'custom', message: 'send exactly one of username and email', path: ['username'] });
      return z.NEVER;
    }
    return { grant_type: body.grant_type, email: login, password: body.password };
  });

const refreshGrantSchema = z.strictObject({
  grant_type: z.literal('refresh_token'),
  refresh_token: z.string().min(1, 'must not be empty').max(4096),
});

/** OAuth 2.0 token request (RFC 6749 §4.3 and §6), as JSON or application/x-www-form-urlencoded. */
export const tokenBodySchema = z.discriminatedUnion('grant_type', [passwordGrantSchema, refreshGrantSchema], {
  error: (issue) => (issue.code === 'invalid_union' ? 'must be "password" or "refresh_token"' : undefined),
});
export type TokenBody = z.output<typeof tokenBodySchema>;

export const userViewSchema = z
  .object({
    id: z.uuid(),
    email: z.string(),
    display_name: z.string(),
    roles: z.array(z.string()).describe('e.g. listener, premium, curator, admin'),
    created_at: z.string().describe('RFC 3339, UTC'),
  })
  .meta({ id: 'User' });
export type UserView = z.output<typeof userViewSchema>;

export const tokenViewSchema = z
  .object({
    access_token: z.string(),
    token_type: z.string().describe('Bearer'),
    expires_in: z.number().int().describe('Seconds until the access token expires.'),
    refresh_token: z.string().describe('Single use: each refresh returns a new one.'),
    refresh_expires_in: z.number().int(),
  })
  .meta({ id: 'Token' });
export type TokenView = z.output<typeof tokenViewSchema>;

export const jwksViewSchema = z
  .object({ keys: z.array(z.record(z.string(), z.string())) })
  .meta({ id: 'JWKS', description: 'JSON Web Key Set (RFC 7517) of the keys that sign access tokens.' });

/** RFC 7009 token revocation: the refresh token to end (its whole session ends). */
export const revokeBodySchema = z.strictObject({
  token: z.string().min(1, 'must not be empty').max(4096),
  token_type_hint: z.enum(['refresh_token', 'access_token']).optional(),
});
export type RevokeBody = z.output<typeof revokeBodySchema>;

export const changePasswordBodySchema = z.strictObject({
  current_password: password,
  new_password: password,
});
export type ChangePasswordBody = z.output<typeof changePasswordBodySchema>;

export const deleteAccountBodySchema = z.strictObject({ password });
export type DeleteAccountBody = z.output<typeof deleteAccountBodySchema>;
