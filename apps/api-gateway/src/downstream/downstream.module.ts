import { type DynamicModule, Module, type Provider } from '@nestjs/common';
import {
  AUTH_V1,
  authV1,
  type ContractRef,
  METADATA_V1,
  metadataV1,
  PLAYBACK_V1,
  playbackV1,
  RECOMMENDATION_V1,
  recommendationV1,
} from '@overture/contracts';
import { createGrpcClient, transportSecurity } from '@overture/grpc';
import { createCallPolicy, RetryBudget } from '@overture/resilience';
import type { GatewayConfig } from '../gateway.config.js';
import { AuthClient } from './auth.client.js';
import { Downstream } from './downstream.js';
import {
  AUTH_DOWNSTREAM,
  CATALOGUE_DOWNSTREAM,
  METADATA_DOWNSTREAM,
  PLAYBACK_DOWNSTREAM,
  RECOMMENDATION_DOWNSTREAM,
} from './downstream.tokens.js';
import { MetadataClient } from './metadata.client.js';
import { PlaybackClient } from './playback.client.js';
import { RecommendationClient } from './recommendation.client.js';

// Five unhealthy answers in a row, with no replica serving well, open a breaker; a second later
// one call probes the service. While open, calls fail at once (503) instead of each waiting out
// its deadline; a service back up is used again within about a second.
const BREAKER = { consecutiveFailures: 5, halfOpenAfterMs: 1_000 };

// Retries of reads add at most a fifth more calls, and ten a second whatever the traffic.
const RETRY_BUDGET = { ratio: 0.2, minPerSecond: 10, maxBalance: 100 };

/** The four services the gateway calls: one client and one circuit breaker each, created at boot. */
@Module({})
export class DownstreamModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    const transport = transportSecurity(config, 'api-gateway');
    const downstream = <T extends object>(
      token: symbol,
      name: string,
      contract: ContractRef,
      serviceName: string,
      url: string,
    ): Provider<Downstream<T>> => ({
      provide: token,
      useFactory: () =>
        new Downstream<T>(
          name,
          createGrpcClient<T>({ contract, serviceName, url, transport }),
          createCallPolicy({ name, breaker: BREAKER }),
          config.GRPC_DEADLINE_MS,
          {
            attemptTimeoutMs: config.GRPC_ATTEMPT_TIMEOUT_MS,
            budget: new RetryBudget({ dependency: name, ...RETRY_BUDGET }),
          },
        ),
    });
    const adapters = [AuthClient, MetadataClient, PlaybackClient, RecommendationClient];
    return {
      module: DownstreamModule,
      providers: [
        downstream<authV1.AuthServiceClient>(AUTH_DOWNSTREAM, 'auth', AUTH_V1, authV1.AUTH_SERVICE_NAME, config.AUTH_GRPC_URL),
        downstream<metadataV1.MetadataServiceClient>(
          METADATA_DOWNSTREAM,
          'metadata',
          METADATA_V1,
          metadataV1.METADATA_SERVICE_NAME,
          config.METADATA_GRPC_URL,
        ),
        downstream<metadataV1.CatalogueServiceClient>(
          CATALOGUE_DOWNSTREAM,
          'metadata',
          METADATA_V1,
          metadataV1.CATALOGUE_SERVICE_NAME,
          config.METADATA_GRPC_URL,
        ),
        downstream<playbackV1.PlaybackServiceClient>(
          PLAYBACK_DOWNSTREAM,
          'playback',
          PLAYBACK_V1,
          playbackV1.PLAYBACK_SERVICE_NAME,
          config.PLAYBACK_GRPC_URL,
        ),
        downstream<recommendationV1.RecommendationServiceClient>(
          RECOMMENDATION_DOWNSTREAM,
          'recommendation',
          RECOMMENDATION_V1,
          recommendationV1.RECOMMENDATION_SERVICE_NAME,
          config.RECOMMENDATION_GRPC_URL,
        ),
        ...adapters,
      ],
      exports: adapters,
    };
  }
}
