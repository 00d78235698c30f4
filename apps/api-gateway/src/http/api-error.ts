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
