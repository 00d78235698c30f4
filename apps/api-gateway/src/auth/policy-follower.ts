import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { transportSecurity } from '@overture/grpc';
import { createIdentitySource, type IdentitySource, PolicyCache } from '@overture/identity';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config.js';

/**
 * The gateway's copy of the live access policy (see @overture/identity PolicyCache), fed by auth's
 * WatchPolicy stream on a channel of its own, started and stopped with the app.
 */
@Injectable()
export class GatewayPolicyCache extends PolicyCache implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly source: IdentitySource;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    const source = createIdentitySource(config.AUTH_GRPC_URL, transportSecurity(config, 'api-gateway'));
    super({ watch: () => source.watch(), logger: new Logger('PolicyCache') });
    this.source = source;
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  onModuleDestroy(): void {
    this.stop();
    this.source.close();
  }
}
