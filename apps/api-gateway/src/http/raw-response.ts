import { newRequestId } from '@overture/tracing';
import { STATUS_CODES } from 'node:http';
import type { ApiError } from './api-error.js';
import { problemBody } from './problem-body.js';

/** Headers every response carries, whichever path wrote it. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = { 'x-content-type-options': 'nosniff' };

/**
 * An error as a complete HTTP/1.1 response, for the few places that answer on the raw socket before
 * Fastify has a request (parser errors, timeouts, refused WebSocket upgrades); the connection closes.
 */
export function rawErrorResponse(error: ApiError): string {
  const body = JSON.stringify(problemBody(error, newRequestId()));
  const headers = Object.entries({ ...SECURITY_HEADERS, ...error.headers })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return (
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\n${headers}` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}
