import { Metadata } from '@grpc/grpc-js';
import { defer, type Observable, switchMap } from 'rxjs';
import type { FakeAuthServer } from './fake-auth.server.js';

type ClientMethod = (request: unknown, metadata?: Metadata, ...rest: unknown[]) => Observable<unknown>;

/**
 * For a service's medium tests: the generated gRPC client, except that every call carries an
 * access token (from the fake auth) for the user the request names in `userId`, as the gateway's
 * calls carry the signed-in user's token. A call whose request has no `userId`, or whose metadata
 * already has `authorization`, goes out unchanged.
 */
export function actingAsRequestUser<T extends object>(client: T, auth: FakeAuthServer, claims: Record<string, unknown> = {}): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const method = value as ClientMethod;
      return (request: unknown, metadata: Metadata = new Metadata(), ...rest: unknown[]) => {
        const userId = typeof request === 'object' && request !== null ? (request as { userId?: unknown }).userId : undefined;
        if (typeof userId !== 'string' || !/^[0-9a-f-]{36}$/i.test(userId) || metadata.get('authorization').length > 0) {
          return method.call(target, request, metadata, ...rest);
        }
        return defer(() => auth.sign({ sub: userId.toLowerCase(), ...claims })).pipe(
          switchMap((token) => {
            metadata.set('authorization', `Bearer ${token}`);
            return method.call(target, request, metadata, ...rest);
          }),
        );
      };
    },
  });
}
