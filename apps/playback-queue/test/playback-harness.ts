import { PLAYBACK_V1, type playbackV1 } from '@overture/contracts';
import {
  actingAsRequestUser,
  createTestDatabase,
  migrate,
  startFakeAuthServer,
  startGrpcTestService,
  type FakeAuthServer,
  type GrpcTestService,
  type TestDatabase,
  testTlsEnv,
} from '@overture/testing';
import { migrations } from '../src/database/migrations/index.js';
import { playbackConfigSchema } from '../src/playback.config.js';
import { PlaybackModule } from '../src/playback.module.js';
import { FakeMetadata, FakeRecommendation } from './fake-downstreams.js';

export type PlaybackClient = playbackV1.PlaybackServiceClient;

export interface PlaybackHarness {
  readonly db: TestDatabase;
  readonly metadata: FakeMetadata;
  readonly recommendation: FakeRecommendation;
  readonly auth: FakeAuthServer;
  readonly service: GrpcTestService<PlaybackClient>;
  /** Calls carry an access token for the request's userId, as the gateway's do. */
  readonly client: PlaybackClient;
  stop(): Promise<void>;
}

/**
 * The real playback-queue gRPC service on a fresh, migrated database, with real gRPC stand-ins for
 * its downstreams (metadata knows `catalogue`: track id -> duration) and for auth.
 */
export async function startPlaybackHarness(
  serverUrl: string,
  name: string,
  options: { catalogue: ReadonlyMap<string, number>; queueMaxItems: number; watchDrainGraceMs?: number },
): Promise<PlaybackHarness> {
  const db = await createTestDatabase(serverUrl, name);
  await migrate(db.url, migrations);
  const metadata = await FakeMetadata.start(options.catalogue);
  const recommendation = await FakeRecommendation.start();
  const auth = await startFakeAuthServer();
  const config = playbackConfigSchema.parse({
    ...testTlsEnv('playback-queue'),
    DATABASE_URL: db.url,
    METADATA_GRPC_URL: metadata.address,
    RECOMMENDATION_GRPC_URL: recommendation.address,
    DOWNSTREAM_DEADLINE_MS: '1000',
    AUTH_GRPC_URL: auth.url,
    OUTBOX_POLL_INTERVAL_MS: '50',
    QUEUE_MAX_ITEMS: String(options.queueMaxItems),
    ...(options.watchDrainGraceMs === undefined ? {} : { WATCH_DRAIN_GRACE_MS: String(options.watchDrainGraceMs) }),
  });
  const service = await startGrpcTestService<PlaybackClient>({
    module: PlaybackModule.forRoot(config),
    contract: PLAYBACK_V1,
    serviceName: 'PlaybackService',
  });
  return {
    db,
    metadata,
    recommendation,
    auth,
    service,
    client: actingAsRequestUser(service.client, auth),
    stop: async () => {
      await service.stop();
      await auth.stop();
      metadata.stop();
      recommendation.stop();
      await db.drop();
    },
  };
}
