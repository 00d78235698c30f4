import { z } from 'zod';

/**
 * An error the gateway answers with on purpose: an HTTP status, a stable machine-readable reason
 * (SCREAMING_SNAKE_CASE) clients may branch on, a message for humans, and any headers the status
 * calls for (`WWW-Authenticate` on 401, `Allow` on 405). The problem filter writes it as the one
 * error body of the API.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ApiError';
  }
}

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
