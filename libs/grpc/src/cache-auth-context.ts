import { BaseServerInterceptingCall } from '@grpc/grpc-js/build/src/server-interceptors.js';
import type { Http2Session } from 'node:http2';

/** The part of grpc-js's server call this relies on (private in its typings). */
interface ServerCallInternals {
  stream?: { session?: Http2Session };
  getAuthContext(): object;
}

let installed: boolean | undefined;

/**
 * grpc-js builds a call's auth context with `getPeerCertificate()`, which parses the client's
 * certificate into a new object, three fingerprints included, on every call: 30 µs each, and
 * metadata's CPU per request grew by two thirds under mutual TLS (tools/identity-bench). A
 * connection's peer certificate cannot change (TLS 1.3 has no renegotiation), so the context is
 * kept per HTTP/2 session, for as long as the session lives. Installed once per process by
 * runGrpcService; returns false when this grpc-js no longer has the method (cache-auth-context.spec.ts
 * then fails).
 */
export function cacheAuthContextPerConnection(): boolean {
  installed ??= install();
  return installed;
}

function install(): boolean {
  const prototype = BaseServerInterceptingCall.prototype as unknown as Partial<ServerCallInternals>;
  const getAuthContext = prototype.getAuthContext;
  if (typeof getAuthContext !== 'function') return false;
  const contexts = new WeakMap<Http2Session, object>();
  prototype.getAuthContext = function (this: ServerCallInternals): object {
    const session = this.stream?.session;
    if (!session) return getAuthContext.call(this);
    let context = contexts.get(session);
    if (!context) {
      context = getAuthContext.call(this);
      contexts.set(session, context);
    }
    return context;
  };
  return true;
}
