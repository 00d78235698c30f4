import { z } from 'zod';

export const sessionParamsSchema = z.strictObject({ session_id: z.uuid('must be a session id (UUID)') });
export type SessionParams = z.output<typeof sessionParamsSchema>;

export const sessionViewSchema = z
  .object({
    id: z.uuid(),
    created_at: z.string().describe('When the session signed in (RFC 3339, UTC).'),
    last_used_at: z.string().describe('When its refresh token was last rotated.'),
    expires_at: z.string().describe('When it ends unless refreshed.'),
    current: z.boolean().describe('True for the session of the token that asked.'),
  })
  .meta({ id: 'Session' });
export const sessionsViewSchema = z.object({ sessions: z.array(sessionViewSchema) }).meta({ id: 'Sessions' });
export type SessionsView = z.output<typeof sessionsViewSchema>;
