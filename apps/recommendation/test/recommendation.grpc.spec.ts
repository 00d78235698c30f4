import { Metadata, status } from '@grpc/grpc-js';
import { RECOMMENDATION_V1, recommendationV1 } from '@overture/contracts';
import { readGrpcError, unary, withDeadline, createGrpcClient, type GrpcClientHandle } from '@overture/grpc';
import {
  createTestDatabase,
  migrate,
  startFakeAuthServer,
  startGrpcTestService,
  type FakeAuthServer,
  type GrpcTestService,
  type TestDatabase,
  testTlsEnv,
  testTransport,
} from '@overture/testing';
import { randomUUID } from 'node:crypto';
import type { Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { migrations } from '../src/database/migrations/index.js';
import { recommendationConfigSchema } from '../src/recommendation.config.js';
import { RecommendationModule } from '../src/recommendation.module.js';
import { FakeMetadataServer } from './fake-metadata.server.js';

type Client = recommendationV1.RecommendationServiceClient;
const { PLAY_EVENT_KIND_PLAY: PLAY, PLAY_EVENT_KIND_SKIP: SKIP, PLAY_EVENT_KIND_UNSPECIFIED: UNSPECIFIED } = recommendationV1.PlayEventKind;

describe('recommendation gRPC service (real PostgreSQL, real gRPC, metadata stand-in over real gRPC)', () => {
  let db: TestDatabase;
  let service: GrpcTestService<Client>;
  // Play events come from playback-queue's outbox: a client with its certificate.
  let outbox: GrpcClientHandle<Client>;
  const metadata = new FakeMetadataServer();
  let auth: FakeAuthServer;
  const call = <T>(fn: (c: Client, md: Metadata) => Observable<T>): Promise<T> => unary(fn(service.client, new Metadata()));
  const failure = async (promise: Promise<unknown>) =>
    readGrpcError(
      await promise.then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
  const sql = <T>(query: string, params: unknown[] = []): Promise<T[]> => service.dataSource.query(query, params);

  let clock = Date.parse('2025-11-20T08:00:00Z');
  /** A play event; each one occurs a minute after the previous, so the order of plays is the order written. */
  const event = (userId: string, trackId: string, kind = PLAY): recommendationV1.PlayEvent => {
    clock += 60_000;
    return {
      eventId: randomUUID(),
      userId,
      trackId,
      kind,
      playedMs: kind === PLAY ? 180_000 : 4_000,
      occurredAt: new Date(clock).toISOString(),
      traceparent: '',
    };
  };
  const record = (events: recommendationV1.PlayEvent[]) =>
    unary(outbox.service.recordPlayEvents({ events }, new Metadata(), withDeadline(5_000)));
  // Asked as the user themselves: the service takes the caller from the token.
  const recommend = async (userId: string, limit = 100) => {
    const md = new Metadata();
    md.set('authorization', `Bearer ${await auth.sign({ sub: userId === 'nobody' ? randomUUID() : userId.toLowerCase() })}`);
    return unary(service.client.getRecommendations({ userId, limit }, md, withDeadline(5_000)));
  };
  const featuresOf = async (trackIds: string[]) =>
    (await sql<{ track_id: string }>('SELECT track_id FROM track_features WHERE track_id = ANY($1::uuid[])', [trackIds]))
      .map((r) => r.track_id)
      .sort();

  beforeAll(async () => {
    await metadata.start();
    auth = await startFakeAuthServer();
    db = await createTestDatabase(inject('postgresServerUrl'), 'recommendation');
    await migrate(db.url, migrations);
    const config = recommendationConfigSchema.parse({
      ...testTlsEnv('recommendation'),
      DATABASE_URL: db.url,
      METADATA_GRPC_URL: metadata.url,
      DOWNSTREAM_DEADLINE_MS: '1000',
      AUTH_GRPC_URL: auth.url,
    });
    service = await startGrpcTestService<Client>({
      module: RecommendationModule.forRoot(config),
      contract: RECOMMENDATION_V1,
      serviceName: 'RecommendationService',
    });
    outbox = createGrpcClient<Client>({
      contract: RECOMMENDATION_V1,
      serviceName: 'RecommendationService',
      url: service.url,
      transport: testTransport('playback-queue'),
    });
  });

  afterAll(async () => {
    outbox?.close();
    await service?.stop();
    await auth?.stop();
    metadata.stop();
    await db?.drop();
  });

  it('takes play events from playback-queue only: the gateway, or anyone else, cannot record plays', async () => {
    const user = randomUUID();
    const track = metadata.add({ genre: 'folk' });
    const forged = call((c, md) => c.recordPlayEvents({ events: [event(user, track)] }, md, withDeadline(5_000)));
    expect(await failure(forged)).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'CALLER_NOT_ALLOWED' });
    expect(await sql('SELECT 1 FROM play_events WHERE user_id = $1', [user])).toHaveLength(0);
  });

  it('ingests a batch once: the same batch again is all duplicates and moves no counter', async () => {
    const user = randomUUID();
    const [a, b, c] = [metadata.add({ genre: 'folk' }), metadata.add({ genre: 'folk' }), metadata.add({ genre: 'folk' })];
    const batch = [event(user, a), event(user, b), event(user, c, SKIP), event(user, a)];
    const snapshot = async () => ({
      stats: await sql<{ track_id: string; plays: number; skips: number; last_played_at: Date | null }>(
        'SELECT track_id, plays, skips, last_played_at FROM user_track_stats WHERE user_id = $1 ORDER BY track_id',
        [user],
      ),
      coPlays: await sql<{ track_a: string; track_b: string; count: number }>(
        'SELECT track_a, track_b, count FROM co_plays WHERE track_a = ANY($1::uuid[]) ORDER BY 1, 2',
        [[a, b, c]],
      ),
      popularity: await sql('SELECT track_id, plays FROM track_popularity WHERE track_id = ANY($1::uuid[]) ORDER BY 1', [[a, b, c]]),
      events: await sql('SELECT count(*)::int AS n FROM play_events WHERE user_id = $1', [user]),
    });

    // Sent first with upper-case ids (valid UUIDs too), redelivered below in lower case.
    expect(await record(batch.map((e) => ({ ...e, eventId: e.eventId.toUpperCase(), userId: e.userId.toUpperCase() })))).toEqual({
      accepted: 4,
      duplicates: 0,
    });
    const first = await snapshot();
    const byTrack = Object.fromEntries(
      first.stats.map((r) => [r.track_id, { plays: r.plays, skips: r.skips, played: r.last_played_at !== null }]),
    );
    expect(byTrack).toEqual({
      [a]: { plays: 2, skips: 0, played: true },
      [b]: { plays: 1, skips: 0, played: true },
      [c]: { plays: 0, skips: 1, played: false },
    });
    // b after a: one co-play; a again after b: another. The skip of c pairs with nothing.
    const coPlays = Object.fromEntries(first.coPlays.map((r) => [`${r.track_a}>${r.track_b}`, r.count]));
    expect(coPlays).toEqual({ [`${a}>${b}`]: 2, [`${b}>${a}`]: 2 });
    expect(first.popularity).toHaveLength(2);

    expect(await record(batch)).toEqual({ accepted: 0, duplicates: 4 });
    // UUIDs compare regardless of case.
    expect(await record(batch.map((e) => ({ ...e, eventId: e.eventId.toUpperCase() })))).toEqual({ accepted: 0, duplicates: 4 });
    expect(await snapshot()).toEqual(first);

    // Features of tracks heard about for the first time are copied from metadata.
    await vi.waitFor(async () => expect(await featuresOf([a, b, c])).toEqual([a, b, c].sort()));
  });

  it('rejects invalid events with INVALID_ARGUMENT naming the event and field, storing nothing', async () => {
    const user = randomUUID();
    const track = metadata.add({ genre: 'folk' });
    const valid = event(user, track);
    const cases: [recommendationV1.PlayEvent[], RegExp][] = [
      [[valid, { ...event(user, track), kind: UNSPECIFIED }], /events\.1\.kind/],
      [[valid, { ...event(user, track), occurredAt: '20/11/2025 10:00' }], /events\.1\.occurredAt/],
      [[{ ...event(user, track), playedMs: -1 }, valid], /events\.0\.playedMs/],
      [[valid, { ...event(user, track), eventId: 'not-a-uuid' }], /events\.1\.eventId/],
      [[valid, { ...event(user, track), trackId: "1' OR '1'='1" }], /events\.1\.trackId/],
      [[], /events/],
      [Array.from({ length: 501 }, () => event(user, track)), /at most 500/],
    ];
    for (const [events, field] of cases) {
      const error = await failure(record(events));
      expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
      expect(error?.details).toMatch(field);
    }
    expect(await sql('SELECT event_id FROM play_events WHERE user_id = $1', [user])).toEqual([]);
    expect(await sql('SELECT track_id FROM user_track_stats WHERE user_id = $1', [user])).toEqual([]);

    // Another user than the token's subject (here not even a user id) is refused before anything else.
    const badUser = await failure(recommend('nobody'));
    expect(badUser).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'USER_MISMATCH' });
    const badLimit = await failure(recommend(randomUUID(), 101));
    expect(badLimit?.details).toMatch(/limit/);
  });

  it('answers a new user with the popular list: most played here first, topped up from metadata', async () => {
    const [top, second] = [metadata.add({ genre: 'pop' }), metadata.add({ genre: 'pop' })];
    const hit = metadata.add({ genre: 'pop', popularity: 100 });
    const listeners = [randomUUID(), randomUUID(), randomUUID()];
    await record([...listeners.map((u) => event(u, top)), event(listeners[0], second)]);

    const result = await recommend(randomUUID());
    expect(result.strategy).toBe('popular');
    const ids = result.tracks.map((t) => t.trackId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(result.tracks.every((t) => t.reason === 'popular')).toBe(true);
    expect(ids.indexOf(top)).toBeGreaterThanOrEqual(0);
    expect(ids.indexOf(top)).toBeLessThan(ids.indexOf(second));
    expect(ids.indexOf(second)).toBeLessThan(ids.indexOf(hit));
    const scores = result.tracks.map((t) => t.score);
    expect(scores).toEqual(scores.toSorted((x, y) => y - x));

    expect((await recommend(randomUUID(), 0)).tracks.length).toBeLessThanOrEqual(20);
  });

  it('personalises for a rock listener: co-plays of listeners alike and rock tracks, nothing already heard', async () => {
    const [r1, r2, skipped] = [
      metadata.add({ genre: 'rock' }),
      metadata.add({ genre: 'rock' }),
      metadata.add({ genre: 'rock', mood: 'angry' }),
    ];
    const moreRock = [metadata.add({ genre: 'rock', popularity: 95 }), metadata.add({ genre: 'rock', popularity: 90 })];
    const jazz = metadata.add({ genre: 'jazz', mood: 'relaxed', language: 'fr', popularity: 5 });
    const [listener, alike] = [randomUUID(), randomUUID()];
    await record([event(alike, r1), event(alike, r2), event(alike, jazz)]);
    await record([event(listener, r1), event(listener, r2), event(listener, skipped, SKIP)]);

    const result = await recommend(listener);
    expect(result.strategy).toBe('personalised');
    const reasons = new Map(result.tracks.map((t) => [t.trackId, t.reason]));
    expect(reasons.get(jazz)).toBe('co_played');
    for (const track of moreRock) expect(reasons.get(track)).toBe('shared_attributes');
    for (const heard of [r1, r2, skipped]) expect(reasons.has(heard!)).toBe(false);
    expect(reasons.size).toBe(result.tracks.length);
    const scores = result.tracks.map((t) => t.score);
    expect(scores).toEqual(scores.toSorted((x, y) => y - x));
  });

  it('keeps ingesting and recommending while metadata is down, and fetches missing features once it is back', async () => {
    const seed = metadata.add({ genre: 'latin' });
    // Unlike the seed in every attribute, so only co-play can bring it up.
    const partner = metadata.add({ genre: 'k-pop', mood: 'happy', language: 'ko' });
    const unseen = metadata.add({ genre: 'latin' });
    await record([event(randomUUID(), seed), event(randomUUID(), seed)]);
    const other = randomUUID();
    await record([event(other, seed), event(other, partner)]);
    await vi.waitFor(async () => expect(await featuresOf([seed, partner])).toHaveLength(2));

    metadata.stop();
    try {
      const listener = randomUUID();
      expect(await record([event(listener, seed), event(listener, unseen)])).toEqual({ accepted: 2, duplicates: 0 });
      const personal = await recommend(listener);
      expect(personal.strategy).toBe('personalised');
      expect(personal.tracks).toContainEqual(expect.objectContaining({ trackId: partner, reason: 'co_played' }));
      const newcomer = await recommend(randomUUID());
      expect(newcomer.strategy).toBe('popular');
      expect(newcomer.tracks.map((t) => t.trackId)).toContain(seed);
      expect(await featuresOf([unseen])).toEqual([]);
    } finally {
      await metadata.start();
    }

    // Back up (the client's breaker may need a few seconds to let a probe through): the next
    // recommendation for someone who played the track copies its features.
    const later = randomUUID();
    await record([event(later, unseen)]);
    await vi.waitFor(
      async () => {
        await recommend(later);
        expect(await featuresOf([unseen])).toEqual([unseen]);
      },
      { timeout: 20_000, interval: 500 },
    );
  }, 40_000);
});
