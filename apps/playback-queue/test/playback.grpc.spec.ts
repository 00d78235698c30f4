import { Metadata, status } from '@grpc/grpc-js';
import { playbackV1, recommendationV1 } from '@overture/contracts';
import { readGrpcError, unary, withDeadline } from '@overture/grpc';
import type { FakeAuthServer, GrpcTestService } from '@overture/testing';
import { randomUUID } from 'node:crypto';
import type { Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { OutboxRepository } from '../src/outbox/outbox.repository.js';
import type { FakeMetadata, FakeRecommendation } from './fake-downstreams.js';
import { startPlaybackHarness, type PlaybackHarness } from './playback-harness.js';

type Client = playbackV1.PlaybackServiceClient;

const QUEUE_MAX_ITEMS = 6;
const { PLAY_EVENT_KIND_PLAY: PLAY, PLAY_EVENT_KIND_SKIP: SKIP } = recommendationV1.PlayEventKind;
const REPEAT_OFF = playbackV1.RepeatMode.REPEAT_MODE_OFF;

// The fake catalogue: three full-length tracks and one shorter than the 30 s play threshold.
const A = randomUUID();
const B = randomUUID();
const C = randomUUID();
const SHORT = randomUUID();
const CATALOGUE = new Map([
  [A, 200_000],
  [B, 180_000],
  [C, 240_000],
  [SHORT, 20_000],
]);
const UNKNOWN = randomUUID();

interface HistoryRow {
  queue_item_id: string;
  track_id: string;
  kind: string;
  played_ms: number;
}

describe('playback-queue gRPC service (real PostgreSQL, real gRPC, fake downstream servers)', () => {
  let metadata: FakeMetadata;
  let recommendation: FakeRecommendation;
  let service: GrpcTestService<Client>;
  // Calls carry an access token for the request's userId, as the gateway's do.
  let auth: FakeAuthServer;
  let client: Client;

  const call = <T>(fn: (c: Client, md: Metadata) => Observable<T>): Promise<T> => unary(fn(client, new Metadata()));
  const failure = async (promise: Promise<unknown>) =>
    readGrpcError(
      await promise.then(
        () => undefined,
        (e: unknown) => e,
      ),
    );

  const getQueue = (userId: string) => call((c, md) => c.getQueue({ userId }, md, withDeadline(5_000))).then((r) => r.queue!);
  const add = (userId: string, trackIds: string[], expectedVersion?: number) =>
    call((c, md) => c.addToQueue({ userId, trackIds, expectedVersion, deviceId: '' }, md, withDeadline(5_000))).then((r) => r.queue!);
  const remove = (userId: string, queueItemId: string, expectedVersion?: number) =>
    call((c, md) => c.removeQueueItem({ userId, queueItemId, expectedVersion, deviceId: '' }, md, withDeadline(5_000))).then(
      (r) => r.queue!,
    );
  const skip = (userId: string, deviceId = 'phone-1') =>
    call((c, md) => c.skipToNext({ userId, deviceId, trackEnded: false }, md, withDeadline(5_000))).then((r) => r.state!);
  const progress = (userId: string, queueItemId: string, positionMs: number, deviceId = 'phone-1', isPlaying = true, takeOver = false) =>
    call((c, md) =>
      c.reportProgress({ userId, deviceId, queueItemId, positionMs, isPlaying, playbackRate: 0, takeOver }, md, withDeadline(5_000)),
    ).then((r) => r.state!);
  const playbackState = (userId: string) => call((c, md) => c.getPlaybackState({ userId }, md, withDeadline(5_000))).then((r) => r.state);

  const history = (userId: string): Promise<HistoryRow[]> =>
    service.dataSource.query(
      'SELECT queue_item_id, track_id, kind, played_ms FROM play_history WHERE user_id = $1 ORDER BY occurred_at, kind',
      [userId],
    );
  const outbox = (userId: string): Promise<{ event_id: string; delivered: boolean }[]> =>
    service.dataSource.query('SELECT event_id, delivered_at IS NOT NULL AS delivered FROM outbox WHERE user_id = $1 ORDER BY seq', [
      userId,
    ]);
  const countRows = async (table: 'queues' | 'queue_items', userId: string): Promise<number> => {
    const rows: { count: number }[] = await service.dataSource.query(`SELECT count(*)::int AS count FROM ${table} WHERE user_id = $1`, [
      userId,
    ]);
    return rows[0]!.count;
  };

  /** Waits until every outbox event of the user is delivered, then checks recommendation got each once, in seq order. */
  const expectAllDelivered = async (userId: string, count: number): Promise<recommendationV1.PlayEvent[]> => {
    await vi.waitFor(
      async () => {
        const rows = await outbox(userId);
        expect(rows).toHaveLength(count);
        expect(rows.every((row) => row.delivered)).toBe(true);
      },
      { timeout: 15_000, interval: 50 },
    );
    const received = recommendation.eventsOf(userId);
    expect(received.map((e) => e.eventId)).toEqual((await outbox(userId)).map((row) => row.event_id));
    return received;
  };

  let harness: PlaybackHarness;

  beforeAll(async () => {
    harness = await startPlaybackHarness(inject('postgresServerUrl'), 'playback', { catalogue: CATALOGUE, queueMaxItems: QUEUE_MAX_ITEMS });
    ({ metadata, recommendation, service, auth, client } = harness);
  });

  afterAll(() => harness?.stop());

  it('adds tracks as items with stable ids, versioning every change', async () => {
    const user = randomUUID();
    expect(await getQueue(user)).toEqual({ items: [], currentQueueItemId: '', version: 0, shuffle: false, repeat: REPEAT_OFF });

    const first = await add(user, [A, B]);
    expect(first.version).toBe(1);
    expect(first.currentQueueItemId).toBe('');
    expect(first.items.map((i) => i.trackId)).toEqual([A, B]);
    for (const item of first.items) {
      expect(item.queueItemId).toMatch(/^[0-9a-f-]{36}$/);
      expect(new Date(item.addedAt).toISOString()).toBe(item.addedAt);
    }

    const second = await add(user, [C], 1);
    expect(second.version).toBe(2);
    expect(second.items.map((i) => i.queueItemId).slice(0, 2)).toEqual(first.items.map((i) => i.queueItemId));
    expect(second.items.map((i) => i.trackId)).toEqual([A, B, C]);
    expect(await getQueue(user)).toEqual(second);
  });

  it('queues the same track twice as two items', async () => {
    const user = randomUUID();
    const queue = await add(user, [A, A]);
    expect(queue.items.map((i) => i.trackId)).toEqual([A, A]);
    expect(new Set(queue.items.map((i) => i.queueItemId)).size).toBe(2);
  });

  it('rejects unknown tracks, naming them, and writes nothing', async () => {
    const user = randomUUID();
    const error = await failure(add(user, [A, UNKNOWN]));
    expect(error).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'UNKNOWN_TRACK' });
    expect(error?.details).toContain(UNKNOWN);
    expect(error?.details).not.toContain(A);
    expect(await countRows('queues', user)).toBe(0);
    expect(await countRows('queue_items', user)).toBe(0);

    const malformed = await failure(add(user, ['not-a-uuid']));
    expect(malformed).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
    expect(malformed?.details).toMatch(/trackIds/);
    expect(await failure(add(user, []))).toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('fails with UNAVAILABLE and writes nothing while metadata is down', async () => {
    const user = randomUUID();
    await add(user, [A]);
    metadata.unavailable = true;
    try {
      expect(await failure(add(user, [B]))).toMatchObject({ code: status.UNAVAILABLE, reason: 'DEPENDENCY_UNAVAILABLE' });
    } finally {
      metadata.unavailable = false;
    }
    const queue = await getQueue(user);
    expect(queue.version).toBe(1);
    expect(queue.items.map((i) => i.trackId)).toEqual([A]);
  });

  it('answers ABORTED for a stale expected_version, naming the current one', async () => {
    const user = randomUUID();
    const queue = await add(user, [A, B]);
    const staleAdd = await failure(add(user, [C], 0));
    expect(staleAdd).toMatchObject({ code: status.ABORTED, reason: 'VERSION_MISMATCH' });
    expect(staleAdd?.details).toMatch(/version 1/);
    const staleRemove = await failure(remove(user, queue.items[0]!.queueItemId, 7));
    expect(staleRemove).toMatchObject({ code: status.ABORTED, reason: 'VERSION_MISMATCH' });
    expect(await getQueue(user)).toEqual(queue);
  });

  it('serialises concurrent changes to one queue: each gets its own version', async () => {
    const user = randomUUID();
    const tracks = [A, B, C, SHORT, A];
    const results = await Promise.all(tracks.map((track) => add(user, [track])));
    expect(results.map((q) => q.version).sort()).toEqual([1, 2, 3, 4, 5]);
    const queue = await getQueue(user);
    expect(queue.version).toBe(5);
    expect(queue.items.map((i) => i.trackId).sort()).toEqual([...tracks].sort());
    // Each response shows the queue as its own change left it.
    for (const result of results) expect(result.items).toHaveLength(result.version);
  });

  it('refuses to grow a queue past QUEUE_MAX_ITEMS', async () => {
    const user = randomUUID();
    await add(user, [A, B, C, A]);
    expect(await failure(add(user, [A, B, C]))).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'QUEUE_FULL' });
    expect((await add(user, [B, C])).items).toHaveLength(QUEUE_MAX_ITEMS);
  });

  it('removes items; removing the current one moves playback to the next item, or to none', async () => {
    const user = randomUUID();
    const [a, b, c] = (await add(user, [A, B, C])).items.map((i) => i.queueItemId);
    await skip(user);
    await progress(user, a!, 5_000);

    const withoutB = await remove(user, b!);
    expect(withoutB.items.map((i) => i.queueItemId)).toEqual([a, c]);
    expect(withoutB.currentQueueItemId).toBe(a);

    const withoutA = await remove(user, a!, withoutB.version);
    expect(withoutA.version).toBe(withoutB.version + 1);
    expect(withoutA.currentQueueItemId).toBe(c);
    expect(await playbackState(user)).toMatchObject({ currentItem: { queueItemId: c, trackId: C }, positionMs: 0, isPlaying: true });

    const empty = await remove(user, c!);
    expect(empty).toMatchObject({ items: [], currentQueueItemId: '' });
    const state = await playbackState(user);
    // The client's proto-loader decodes an absent message field as null.
    expect(state?.currentItem).toBeNull();
    expect(state?.isPlaying).toBe(false);
    expect(await failure(remove(user, c!))).toMatchObject({ code: status.NOT_FOUND, reason: 'QUEUE_ITEM_NOT_FOUND' });
  });

  it('skips through the queue in order, then answers NO_NEXT_TRACK', async () => {
    const user = randomUUID();
    expect(await failure(skip(user))).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'QUEUE_EMPTY' });
    const [a, b] = (await add(user, [A, B])).items.map((i) => i.queueItemId);

    const first = await skip(user, 'laptop-2');
    expect(first).toMatchObject({ deviceId: 'laptop-2', currentItem: { queueItemId: a, trackId: A }, positionMs: 0, isPlaying: true });
    const second = await skip(user);
    expect(second).toMatchObject({ deviceId: 'phone-1', currentItem: { queueItemId: b }, positionMs: 0 });
    expect(second.version).toBe(first.version + 1);

    expect(await failure(skip(user))).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'NO_NEXT_TRACK' });
    expect((await getQueue(user)).currentQueueItemId).toBe(b);
    expect((await playbackState(user))?.currentItem?.queueItemId).toBe(b);
  });

  it('records exactly one play once progress passes 30 s, and delivers it to recommendation', async () => {
    const user = randomUUID();
    const [a] = (await add(user, [A, B])).items.map((i) => i.queueItemId);
    await skip(user);
    await progress(user, a!, 10_000);
    expect(await history(user)).toEqual([]);

    // Another device moves the state only when it takes over.
    const state = await progress(user, a!, 31_000, 'speaker-3', true, true);
    expect(state).toMatchObject({ deviceId: 'speaker-3', positionMs: 31_000, isPlaying: true, currentItem: { queueItemId: a } });
    await progress(user, a!, 45_000, 'speaker-3');
    await progress(user, a!, 60_000, 'speaker-3', false);
    // Already recorded as a play: moving on records no skip for it.
    await skip(user);
    expect(await history(user)).toEqual([{ queue_item_id: a, track_id: A, kind: 'play', played_ms: 31_000 }]);

    const [event] = await expectAllDelivered(user, 1);
    expect(event).toMatchObject({ userId: user, trackId: A, kind: PLAY, playedMs: 31_000 });
    expect(new Date(event!.occurredAt).toISOString()).toBe(event!.occurredAt);
  });

  it('records a skip when moving on before 30 s, and a play for a short track played to its end', async () => {
    const user = randomUUID();
    const [a, short] = (await add(user, [A, SHORT, B])).items.map((i) => i.queueItemId);
    await skip(user);
    await progress(user, a!, 12_000);
    await skip(user);
    await progress(user, short!, 20_000);
    expect(await history(user)).toEqual([
      { queue_item_id: a, track_id: A, kind: 'skip', played_ms: 12_000 },
      { queue_item_id: short, track_id: SHORT, kind: 'play', played_ms: 20_000 },
    ]);
    const events = await expectAllDelivered(user, 2);
    expect(events.map((e) => [e.trackId, e.kind, e.playedMs])).toEqual([
      [A, SKIP, 12_000],
      [SHORT, PLAY, 20_000],
    ]);
  });

  it('validates progress reports: position in range, current item only, well-formed device', async () => {
    const user = randomUUID();
    const [a, b] = (await add(user, [A, B])).items.map((i) => i.queueItemId);
    await skip(user);
    const past = await failure(progress(user, a!, 200_001));
    expect(past).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'POSITION_OUT_OF_RANGE' });
    expect(await failure(progress(user, b!, 1_000))).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'NOT_CURRENT_ITEM' });
    const negative = await failure(progress(user, a!, -1));
    expect(negative?.details).toMatch(/positionMs/);
    const badDevice = await failure(progress(user, a!, 1_000, 'bad device!'));
    expect(badDevice).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(badDevice?.details).toMatch(/deviceId/);
    expect(await failure(skip(user, ''))).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect((await playbackState(user))?.positionMs).toBe(0);
  });

  it("answers NOT_FOUND for another user's queue item and leaves it alone", async () => {
    const owner = randomUUID();
    const intruder = randomUUID();
    const [a] = (await add(owner, [A])).items.map((i) => i.queueItemId);
    await skip(owner);
    await add(intruder, [B]);
    await skip(intruder);

    expect(await failure(remove(intruder, a!))).toMatchObject({ code: status.NOT_FOUND, reason: 'QUEUE_ITEM_NOT_FOUND' });
    expect(await failure(progress(intruder, a!, 40_000))).toMatchObject({ code: status.NOT_FOUND, reason: 'QUEUE_ITEM_NOT_FOUND' });
    expect((await getQueue(owner)).items.map((i) => i.queueItemId)).toEqual([a]);
    expect((await playbackState(owner))?.positionMs).toBe(0);
    expect(await history(owner)).toEqual([]);
  });

  it('has no playback state before the first play, and validates the user id', async () => {
    expect(await playbackState(randomUUID())).toBeNull();
    // The caller comes from the access token: a user id that is not a token's subject gets nowhere.
    const error = await failure(playbackState('someone'));
    expect(error).toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it("refuses calls without a token, and calls naming another user than the token's; another user's item is NOT_FOUND", async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const bobItem = (await add(bob, [A])).items[0]!.queueItemId;
    const anonymous = await failure(unary(service.client.getQueue({ userId: bob }, new Metadata(), withDeadline(5_000))));
    expect(anonymous).toMatchObject({ code: status.UNAUTHENTICATED });
    const asAlice = new Metadata();
    asAlice.set('authorization', `Bearer ${await auth.sign({ sub: alice })}`);
    const spoofed = await failure(unary(service.client.getQueue({ userId: bob }, asAlice, withDeadline(5_000))));
    expect(spoofed).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'USER_MISMATCH' });
    const foreignItem = await failure(
      unary(service.client.removeQueueItem({ userId: alice, queueItemId: bobItem, deviceId: '' }, asAlice, withDeadline(5_000))),
    );
    expect(foreignItem).toMatchObject({ code: status.NOT_FOUND });
    expect((await getQueue(bob)).items.map((i) => i.queueItemId)).toEqual([bobItem]);
  });

  it('keeps events in the outbox while recommendation is down and delivers them all, in order, once it is back', async () => {
    const user = randomUUID();
    const [, , , d] = (await add(user, [A, B, C, A])).items.map((i) => i.queueItemId);
    recommendation.stop();
    try {
      for (let i = 0; i < 4; i++) await skip(user); // skips A, B and C on the way to the fourth item
      await progress(user, d!, 30_000);
      const pending = await outbox(user);
      expect(pending).toHaveLength(4);
      expect(pending.every((row) => !row.delivered)).toBe(true);
      expect(recommendation.eventsOf(user)).toEqual([]);
    } finally {
      await recommendation.start();
    }
    const events = await expectAllDelivered(user, 4);
    expect(events.map((e) => [e.trackId, e.kind])).toEqual([
      [A, SKIP],
      [B, SKIP],
      [C, SKIP],
      [A, PLAY],
    ]);
  });

  it('sets aside an event recommendation refuses as invalid, and delivers the ones before and after it in order', async () => {
    const user = randomUUID();
    await add(user, [A, B, C, A]);
    recommendation.refuseTrack = B;
    try {
      for (let i = 0; i < 4; i++) await skip(user); // skips A, B and C on the way to the fourth item
      await vi.waitFor(async () => expect((await outbox(user)).map((row) => row.delivered)).toEqual([true, true, true]), {
        timeout: 10_000,
        interval: 20,
      });
    } finally {
      recommendation.refuseTrack = undefined;
    }
    expect(recommendation.eventsOf(user).map((e) => e.trackId)).toEqual([A, C]);
    const rows: { track: string; refused_reason: string | null }[] = await service.dataSource.query(
      `SELECT payload->>'track_id' AS track, refused_reason FROM outbox WHERE user_id = $1 ORDER BY seq`,
      [user],
    );
    expect(rows).toEqual([
      { track: A, refused_reason: null },
      { track: B, refused_reason: 'events[0].trackId: refused by the test' },
      { track: C, refused_reason: null },
    ]);
  });

  it("keeps the relay lock on this replica's relay, so a second replica's relay stays on standby", async () => {
    const rival = await new OutboxRepository(service.dataSource).tryLead();
    await rival?.release();
    expect(rival).toBeUndefined();
  });

  it('retries while recommendation answers UNAVAILABLE, losing and duplicating nothing', async () => {
    const user = randomUUID();
    const [a] = (await add(user, [A, B])).items.map((i) => i.queueItemId);
    recommendation.unavailable = true;
    const callsBefore = recommendation.calls;
    try {
      await skip(user);
      await progress(user, a!, 35_000);
      await skip(user);
      await vi.waitFor(() => expect(recommendation.calls - callsBefore).toBeGreaterThanOrEqual(2), { timeout: 10_000, interval: 20 });
      expect((await outbox(user)).map((row) => row.delivered)).toEqual([false]);
    } finally {
      recommendation.unavailable = false;
    }
    const [event] = await expectAllDelivered(user, 1);
    expect(event).toMatchObject({ trackId: A, kind: PLAY, playedMs: 35_000 });
  });
});
