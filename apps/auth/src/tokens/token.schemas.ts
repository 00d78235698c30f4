import { z } from 'zod';
import { emailSchema } from '../accounts/account.schemas.js';

const passwordGrant = z.object({
  email: emailSchema,
  // No minimum beyond "present": the length rule is for new passwords, not for signing in.
  password: z.string().min(1, 'is required').max(128, 'at most 128 characters'),
});

const refreshGrant = z.object({
  refreshToken: z.string().min(1, 'is required').max(512, 'at most 512 characters'),
});

export type Grant = ({ kind: 'password'; email: string; password: string } | { kind: 'refresh'; refreshToken: string }) & {
  clientAddress?: string;
};

export const issueTokenSchema = z
  .object({
    password: passwordGrant.nullish(),
    refresh: refreshGrant.nullish(),
    clientAddress: z
      .string()
      .max(64, 'at most 64 characters')
      .transform((v) => v || undefined),
  })
  .transform((r, ctx): Grant => {
    if (r.password && !r.refresh) return { kind: 'password', ...r.password, clientAddress: r.clientAddress };
    if (r.refresh && !r.password) return { kind: 'refresh', ...r.refresh };
    ctx.addIssue({ code: 'custom', message: 'exactly one of password or refresh must be set', path: ['grant'] });
    return z.NEVER;
  });
