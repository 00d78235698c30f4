import { z } from 'zod';

export const listSessionsSchema = z.object({ userId: z.uuid({ message: 'must be a user id (UUID)' }) });

export const revokeSessionSchema = z.object({
  userId: z.uuid({ message: 'must be a user id (UUID)' }),
  sessionId: z.uuid({ message: 'must be a session id (UUID)' }),
});

export const revokeTokenSchema = z.object({
  refreshToken: z.string().min(1, 'is required').max(512, 'at most 512 characters'),
});
