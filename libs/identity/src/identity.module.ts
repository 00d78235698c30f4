import { Metadata } from '@grpc/grpc-js';
import {
  type DynamicModule,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AUTH_V1, authV1 } from '@overture/contracts';
import { createGrpcClient, unary, withDeadline, type TransportSecurity } from '@overture/grpc';
import { randomUUID } from 'node:crypto';
import type { Observable } from 'rxjs';
import { ACCESS_TOKEN_CHECKER, GrpcIdentityGuard } from './grpc-identity.guard.js';
import type { IdentityConfig } from './identity.config.js';
import { JwksCache } from './jwks-cache.js';
import { PolicyCache } from './policy-cache.js';
import { TokenVerifier } from './token-verifier.js';

const IDENTITY_SOURCE = Symbol('IDENTITY_SOURCE');
// The request-id key of @overture/tracing, spelled out so this lib does not depend on tracing.
const REQUEST_ID_KEY = 'x-request-id';
const JWKS_DEADLINE_MS = 2_000;

/** A gRPC client of auth with the two calls a verifier needs: GetJwks and WatchPolicy. */
export interface IdentitySource {
  fetchKeys(): Promise<authV1.Jwk[]>;
  watch(): Observable<authV1.WatchPolicyResponse>;
  close(): void;
}

export function createIdentitySource(authGrpcUrl: string, transport: TransportSecurity): IdentitySource {
  const client = createGrpcClient<authV1.AuthServiceClient>({
    contract: AUTH_V1,
    serviceName: authV1.AUTH_SERVICE_NAME,
    url: authGrpcUrl,
    transport,
    streams: true,
  });
  const metadata = (): Metadata => {
    const md = new Metadata();
    md.set(REQUEST_ID_KEY, randomUUID());
    return md;
  };
  return {
    fetchKeys: async () => (await unary(client.service.getJwks({}, metadata(), withDeadline(JWKS_DEADLINE_MS)))).keys,
    // No deadline: the stream lives as long as the process; keepalive pings detect a dead peer.
    watch: () => client.service.watchPolicy({}, metadata()),
    close: () => client.close(),
  };
}

/** Starts the key and policy caches with the app and stops them, and the auth client, with it. */
@Injectable()
class IdentityLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(JwksCache) private readonly jwks: JwksCache,
    @Inject(PolicyCache) private readonly policy: PolicyCache,
    @Inject(IDENTITY_SOURCE) private readonly source: IdentitySource,
  ) {}

  onApplicationBootstrap(): void {
    this.jwks.start();
    this.policy.start();
  }

  onApplicationShutdown(): void {
    this.jwks.stop();
    this.policy.stop();
    this.source.close();
  }
}

/**
 * Makes every gRPC method of a service check its caller (see GrpcIdentityGuard): auth's keys and
 * live policy are held in memory, fed by GetJwks and the WatchPolicy stream.
 */
@Module({})
export class IdentityModule {
  static forRoot(config: IdentityConfig, transport: TransportSecurity): DynamicModule {
    return {
      module: IdentityModule,
      providers: [
        { provide: IDENTITY_SOURCE, useFactory: () => createIdentitySource(config.AUTH_GRPC_URL, transport) },
        {
          provide: JwksCache,
          inject: [IDENTITY_SOURCE],
          useFactory: (source: IdentitySource) =>
            new JwksCache({
              fetchKeys: () => source.fetchKeys(),
              refreshIntervalMs: config.JWKS_REFRESH_INTERVAL_MS,
              logger: new Logger('JwksCache'),
            }),
        },
        {
          provide: PolicyCache,
          inject: [IDENTITY_SOURCE],
          useFactory: (source: IdentitySource) => new PolicyCache({ watch: () => source.watch(), logger: new Logger('PolicyCache') }),
        },
        {
          provide: ACCESS_TOKEN_CHECKER,
          inject: [JwksCache],
          useFactory: (keys: JwksCache) => new TokenVerifier(keys, { issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE }),
        },
        IdentityLifecycle,
        { provide: APP_GUARD, useClass: GrpcIdentityGuard },
      ],
      exports: [PolicyCache, JwksCache],
    };
  }
}
