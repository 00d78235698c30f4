// SQLSTATE classes and codes that say the database cannot serve now, not that the query is wrong:
// connection exceptions (08), insufficient resources such as too many connections (53), and
// operator intervention: admin or crash shutdown, starting up, idle session ended (57P01–57P05).
const UNAVAILABLE_SQLSTATE = /^(08...|53...|57P0[1-5])$/;

// Socket errors on the way to the database server.
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

// node-postgres reports a dropped connection and a pool wait that timed out by message only.
const CONNECTION_LOST = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
];

/**
 * Whether an error (node-postgres', or TypeORM's wrapping one in `driverError`) says the service's
 * database is unavailable: refused or dropped connections, a server shutting down or starting up,
 * too many connections, or no pooled connection within the pool's timeout. A query's own error
 * (a constraint, a syntax error, a statement timeout) is not.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++) {
    const { code, message, driverError, cause } = e as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown };
    if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNREACHABLE.has(code))) return true;
    if (typeof message === 'string' && CONNECTION_LOST.some((text) => message.startsWith(text))) return true;
    // An AggregateError (a host with several addresses, all refused) carries the socket errors.
    if (e instanceof AggregateError && e.errors.some((inner) => isDatabaseUnavailable(inner))) return true;
    e = driverError ?? cause;
  }
  return false;
}
