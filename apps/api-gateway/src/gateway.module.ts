import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { SaturationMonitor } from '@overture/health';
import { PolicyCache, TokenVerifier } from '@overture/identity';
import { AccessTokenGuard } from './auth/access-token.guard.js';
import { AccountService } from './auth/account.service.js';
import { AuthController } from './auth/auth.controller.js';
import { JwksCache } from './auth/jwks-cache.js';
import { GatewayPolicyCache } from './auth/policy-follower.js';
import { AdminController } from './admin/admin.controller.js';
import { AdminService } from './admin/admin.service.js';
import { SessionsController } from './sessions/sessions.controller.js';
import { SessionsService } from './sessions/sessions.service.js';
import { CatalogueController } from './catalogue/catalogue.controller.js';
import { CatalogueService } from './catalogue/catalogue.service.js';
import { DownstreamModule } from './downstream/downstream.module.js';
import { GATEWAY_CONFIG, type GatewayConfig } from './gateway.config.js';
import { GatewayLifecycle } from './health/gateway-lifecycle.js';
import { HealthController } from './health/health.controller.js';
import { ProblemFilter } from './http/problem.filter.js';
import { RouteTable } from './http/route-table.js';
import { ZodValidationPipe } from './http/zod-validation.pipe.js';
import { PlayerController } from './player/player.controller.js';
import { PlayerService } from './player/player.service.js';
import { PlaybackEventStream } from './realtime/playback-event.stream.js';
import { RealtimeServer } from './realtime/realtime.server.js';
import { SocketAuthenticator } from './realtime/socket-authenticator.js';
import { RecommendationsController } from './recommendations/recommendations.controller.js';
import { RecommendationsService } from './recommendations/recommendations.service.js';

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      // Terminus would log every failed readiness probe; JwksCache already logs why keys are missing.
      imports: [TerminusModule.forRoot({ logger: false }), DownstreamModule.forRoot(config)],
      controllers: [
        AuthController,
        SessionsController,
        AdminController,
        CatalogueController,
        PlayerController,
        RecommendationsController,
        HealthController,
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        JwksCache,
        { provide: PolicyCache, useClass: GatewayPolicyCache },
        {
          provide: TokenVerifier,
          inject: [JwksCache],
          useFactory: (keys: JwksCache) => new TokenVerifier(keys, { issuer: config.AUTH_ISSUER, audience: config.AUTH_AUDIENCE }),
        },
        AccountService,
        SessionsService,
        AdminService,
        CatalogueService,
        PlayerService,
        PlaybackEventStream,
        SocketAuthenticator,
        RealtimeServer,
        RecommendationsService,
        GatewayLifecycle,
        RouteTable,
        {
          provide: SaturationMonitor,
          useFactory: () =>
            new SaturationMonitor({
              eventLoopDelayMs: config.READINESS_EVENT_LOOP_DELAY_MS,
              eventLoopWindowMs: config.READINESS_EVENT_LOOP_WINDOW_MS,
              // The gateway has no database pool.
              poolExhaustedMs: Number.POSITIVE_INFINITY,
            }).start(),
        },
        { provide: APP_GUARD, useClass: AccessTokenGuard },
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_PIPE, useValue: new ZodValidationPipe() },
      ],
    };
  }
}
