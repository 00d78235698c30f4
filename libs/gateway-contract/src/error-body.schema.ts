import { z } from 'zod';

/** The body of every error response. */
export const errorBodySchema = z
  .object({
    error: z.object({
      status: z.number().int().describe('The HTTP status, repeated.'),
      reason: z.string().describe('Machine-readable cause, e.g. TRACK_NOT_FOUND; each error response lists the reasons it can carry.'),
      message: z.string().describe('Human-readable explanation; for INVALID_REQUEST it names each bad field.'),
      request_id: z.string().describe('The x-request-id of the request, also sent as a response header.'),
    }),
  })
  .meta({ id: 'Error' });

export type ErrorBody = z.output<typeof errorBodySchema>;
