import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { JwksCache as IdentityJwksCache } from '@overture/identity';
import { newRequestId } from '@overture/tracing';
import { AuthClient } from '../downstream/auth.client.js';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config.js';

/**
 * Auth's public signing keys for the gateway (see @overture/identity JwksCache), read through the
 * gateway's auth client (circuit breaker, deadline) and started and stopped with the app.
 */
@Injectable()
export class JwksCache extends IdentityJwksCache implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(@Inject(AuthClient) auth: AuthClient, @Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    super({
      fetchKeys: () => auth.getJwks({ requestId: newRequestId() }),
      refreshIntervalMs: config.JWKS_REFRESH_INTERVAL_MS,
      logger: new Logger('JwksCache'),
    });
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  onModuleDestroy(): void {
    this.stop();
  }
}
