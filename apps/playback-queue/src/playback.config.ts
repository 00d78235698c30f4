import { env, grpcServiceConfig } from '@overture/config';
import { idempotencyConfig } from '@overture/idempotency';
import { identityConfig } from '@overture/identity';
import { z } from 'zod';

export const playbackConfigSchema = z.object({
  ...grpcServiceConfig,
  ...identityConfig,
  ...idempotencyConfig,
  GRPC_LISTEN: grpcServiceConfig.GRPC_LISTEN.default('127.0.0.1:50053'),
  METADATA_GRPC_URL: env.grpcTarget().default('127.0.0.1:50052'),
  RECOMMENDATION_GRPC_URL: env.grpcTarget().default('127.0.0.1:50054'),
  /** Deadline of every call to metadata and recommendation. */
  DOWNSTREAM_DEADLINE_MS: env.positiveInt().default(2_000),
  /** How often the outbox relay looks for undelivered play events when nothing wakes it sooner. */
  OUTBOX_POLL_INTERVAL_MS: env.positiveInt().default(500),
  /** Play events per RecordPlayEvents call. */
  OUTBOX_BATCH_SIZE: env.positiveInt().max(1_000).default(100),
  QUEUE_MAX_ITEMS: env.positiveInt().default(10_000),
  /**
   * After SIGTERM: how long WatchEvents streams are kept while their watchers (gateways) move to
   * another replica; they end sooner once every watcher has moved. Keep it well inside
   * SHUTDOWN_DELAY_MS + SHUTDOWN_GRACE_MS, or the forced shutdown cuts them.
   */
  WATCH_DRAIN_GRACE_MS: env.nonNegativeInt().default(5_000),
});

export type PlaybackConfig = z.output<typeof playbackConfigSchema>;

/** Injection token of the parsed PlaybackConfig. */
export const PLAYBACK_CONFIG = Symbol('PLAYBACK_CONFIG');
