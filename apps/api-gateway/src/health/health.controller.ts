import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { GatewayReason } from '@overture/contracts';
import { HealthCheckService, HealthIndicatorService, type HealthCheckResult, type HealthIndicatorResult } from '@nestjs/terminus';
import { Public } from '../auth/public.decorator.js';
import { SaturationMonitor } from '@overture/health';
import { PolicyCache } from '@overture/identity';
import { JwksCache } from '../auth/jwks-cache.js';
import { ApiErrors } from '../http/openapi.js';
import { GatewayLifecycle } from './gateway-lifecycle.js';
import { notReady } from '../http/gateway.errors.js';

/**
 * Liveness (the process answers) and readiness (it can serve: signing keys and access policy
 * loaded, its event loop not stalled for a sustained window, not shutting down). Readiness deliberately ignores the downstream services: were it to follow them, one
 * service outage would take every gateway replica out of the load balancer, turning partial
 * degradation (503 on some routes, fallbacks on others) into a total outage.
 */
@ApiTags('health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(JwksCache) private readonly jwks: JwksCache,
    @Inject(PolicyCache) private readonly policy: PolicyCache,
    @Inject(GatewayLifecycle) private readonly lifecycle: GatewayLifecycle,
    @Inject(SaturationMonitor) private readonly saturation: SaturationMonitor,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: 200 while the process serves HTTP' })
  @ApiResponse({ status: 200, description: 'Alive' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: signing keys loaded, event loop not stalled, not shutting down' })
  @ApiResponse({ status: 200, description: 'Ready' })
  @ApiErrors([503, GatewayReason.NOT_READY])
  async ready(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.signingKeys(), () => this.accessPolicy(), () => this.eventLoop(), () => this.serving()]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const failed = Object.entries((error.getResponse() as HealthCheckResult).error ?? {});
      const because = failed.map(([name, result]) => `${name}: ${String(result?.message ?? result?.status)}`).join('; ');
      throw notReady(because);
    }
  }

  private signingKeys(): HealthIndicatorResult {
    const check = this.indicators.check('signing_keys');
    return this.jwks.isLoaded ? check.up() : check.down({ message: 'not loaded from auth yet' });
  }

  private accessPolicy(): HealthIndicatorResult {
    const check = this.indicators.check('access_policy');
    return this.policy.ready ? check.up() : check.down({ message: 'policy snapshot not received from auth yet' });
  }

  private eventLoop(): HealthIndicatorResult {
    const check = this.indicators.check('event_loop');
    const problem = this.saturation.problem();
    return problem ? check.down({ message: problem }) : check.up();
  }

  private serving(): HealthIndicatorResult {
    const check = this.indicators.check('lifecycle');
    return this.lifecycle.draining ? check.down({ message: 'shutting down' }) : check.up();
  }
}
