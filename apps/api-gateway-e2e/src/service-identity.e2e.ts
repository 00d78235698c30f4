import { Metadata, status } from '@grpc/grpc-js';
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
import {
  createGrpcClient,
  readGrpcError,
  transportSecurity,
  unary,
  withDeadline,
  type ServiceIdentity,
  type TransportSecurity,
} from '@overture/grpc';
import { writeDevCertificates } from '@overture/grpc/dev-certificates';
import { testTransport } from '@overture/testing';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { firstValueFrom, type Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ServiceName } from '../../../tools/suite/suite.ts';
import { startSuite, type RunningSuite } from './suite-fixture.js';

// The internal ports as something inside the cluster would try them: no certificate, a certificate
// of another CA, and a valid certificate of the wrong workload.
describe('internal gRPC ports accept only the workloads each method names', () => {
  let running: RunningSuite;
  let strangers: string;
  const closers: (() => void)[] = [];

  beforeAll(async () => {
    running = await startSuite(inject('postgresServerUrl'), { demoTracks: 50 });
    strangers = await mkdtemp(path.join(tmpdir(), 'overture-strangers-'));
    await writeDevCertificates(strangers, ['api-gateway']);
  });
  afterAll(async () => {
    for (const close of closers) close();
    await running?.stop();
    await rm(strangers, { recursive: true, force: true });
  });

  const addressOf = (service: ServiceName) => `127.0.0.1:${running.suite.options.ports[service]}`;
  function clientOf<T extends object>(contract: ContractRef, serviceName: string, service: ServiceName, transport: TransportSecurity): T {
    const handle = createGrpcClient<T>({ contract, serviceName, url: addressOf(service), transport });
    closers.push(handle.close);
    return handle.service;
  }
  const as = (identity: ServiceIdentity) => testTransport(identity);
  const plaintext = transportSecurity({ GRPC_TLS_DIR: 'unused', GRPC_TLS_RELOAD_MS: 60_000, GRPC_INSECURE_PLAINTEXT: true }, 'api-gateway');
  const stranger = () =>
    transportSecurity(
      { GRPC_TLS_DIR: path.join(strangers, 'api-gateway'), GRPC_TLS_RELOAD_MS: 60_000, GRPC_INSECURE_PLAINTEXT: false },
      'api-gateway',
    );
  const outcome = (call: Promise<unknown>) =>
    call.then(
      () => ({ code: status.OK, reason: undefined as string | undefined }),
      (error: unknown) => ({ code: readGrpcError(error)?.code ?? -1, reason: readGrpcError(error)?.reason }),
    );
  const unaryOf = <T>(observable: Observable<T>) => outcome(unary(observable));
  const md = () => new Metadata();
  const deadline = () => withDeadline(3_000);
  const CALLER_NOT_ALLOWED = { code: status.PERMISSION_DENIED, reason: 'CALLER_NOT_ALLOWED' };

  const jwksOf = (transport: TransportSecurity) =>
    unaryOf(clientOf<authV1.AuthServiceClient>(AUTH_V1, 'AuthService', 'auth', transport).getJwks({}, md(), deadline()));

  it('refuses a connection without a certificate or with one of another CA, on every service', async () => {
    const probes: [ServiceName, (t: TransportSecurity) => Promise<{ code: number }>][] = [
      ['auth', jwksOf],
      [
        'metadata',
        (t) =>
          unaryOf(
            clientOf<metadataV1.MetadataServiceClient>(METADATA_V1, 'MetadataService', 'metadata', t).getTrack(
              { trackId: randomUUID() },
              md(),
              deadline(),
            ),
          ),
      ],
      [
        'playback-queue',
        (t) =>
          unaryOf(
            clientOf<playbackV1.PlaybackServiceClient>(PLAYBACK_V1, 'PlaybackService', 'playback-queue', t).getQueue(
              { userId: randomUUID() },
              md(),
              deadline(),
            ),
          ),
      ],
      [
        'recommendation',
        (t) =>
          unaryOf(
            clientOf<recommendationV1.RecommendationServiceClient>(
              RECOMMENDATION_V1,
              'RecommendationService',
              'recommendation',
              t,
            ).recordPlayEvents({ events: [] }, md(), deadline()),
          ),
      ],
    ];
    for (const [service, probe] of probes) {
      expect(await probe(plaintext), `${service} without a certificate`).toMatchObject({ code: status.UNAVAILABLE });
      expect(await probe(stranger()), `${service} with another CA's certificate`).toMatchObject({ code: status.UNAVAILABLE });
    }
    // The same probe with the right certificate gets through to the method.
    expect(await jwksOf(as('metadata'))).toMatchObject({ code: status.OK });
  });

  it("only the gateway may watch every user's playback events", async () => {
    for (const identity of ['recommendation', 'metadata', 'auth'] as const) {
      const events = clientOf<playbackV1.PlaybackServiceClient>(PLAYBACK_V1, 'PlaybackService', 'playback-queue', as(identity)).watchEvents(
        {},
        md(),
      );
      expect(await outcome(firstValueFrom(events)), identity).toMatchObject(CALLER_NOT_ALLOWED);
    }
  });

  it('only playback-queue may record plays', async () => {
    const event = {
      eventId: randomUUID(),
      userId: randomUUID(),
      trackId: randomUUID(),
      kind: recommendationV1.PlayEventKind.PLAY_EVENT_KIND_PLAY,
      playedMs: 1,
      occurredAt: new Date().toISOString(),
      traceparent: '',
    };
    for (const identity of ['api-gateway', 'metadata', 'auth'] as const) {
      const recommendation = clientOf<recommendationV1.RecommendationServiceClient>(
        RECOMMENDATION_V1,
        'RecommendationService',
        'recommendation',
        as(identity),
      );
      expect(await unaryOf(recommendation.recordPlayEvents({ events: [event] }, md(), deadline())), identity).toMatchObject(
        CALLER_NOT_ALLOWED,
      );
    }
  });

  it('only the gateway may sign users in or register them (and so name their client address)', async () => {
    for (const identity of ['metadata', 'playback-queue', 'recommendation'] as const) {
      const auth = clientOf<authV1.AuthServiceClient>(AUTH_V1, 'AuthService', 'auth', as(identity));
      const token = auth.issueToken(
        { password: { email: 'a@example.com', password: 'x'.repeat(12) }, clientAddress: '203.0.113.9' },
        md(),
        deadline(),
      );
      expect(await unaryOf(token), identity).toMatchObject(CALLER_NOT_ALLOWED);
      const register = auth.register(
        { email: `${randomUUID()}@example.com`, password: 'correct horse battery', displayName: 'X', clientAddress: '203.0.113.9' },
        md(),
        deadline(),
      );
      expect(await unaryOf(register), identity).toMatchObject(CALLER_NOT_ALLOWED);
    }
  });

  it('only the gateway may edit the catalogue; the services that read it may read it', async () => {
    const catalogue = clientOf<metadataV1.CatalogueServiceClient>(METADATA_V1, 'CatalogueService', 'metadata', as('playback-queue'));
    expect(await unaryOf(catalogue.deleteTrack({ trackId: randomUUID(), expectedVersion: 0 }, md(), deadline()))).toMatchObject(
      CALLER_NOT_ALLOWED,
    );
    for (const identity of ['api-gateway', 'playback-queue', 'recommendation'] as const) {
      const metadata = clientOf<metadataV1.MetadataServiceClient>(METADATA_V1, 'MetadataService', 'metadata', as(identity));
      expect(await unaryOf(metadata.batchGetTracks({ trackIds: [randomUUID()] }, md(), deadline())), identity).toMatchObject({
        code: status.OK,
      });
    }
    const auth = clientOf<metadataV1.MetadataServiceClient>(METADATA_V1, 'MetadataService', 'metadata', as('auth'));
    expect(await unaryOf(auth.batchGetTracks({ trackIds: [randomUUID()] }, md(), deadline()))).toMatchObject(CALLER_NOT_ALLOWED);
  });
});
