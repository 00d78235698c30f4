import { Metadata, status } from '@grpc/grpc-js';
import { playbackV1, PlaybackReason } from '@overture/contracts';
import { readGrpcError, unary, withDeadline } from '@overture/grpc';
import type { GrpcTestService } from '@overture/testing';
import { randomUUID } from 'node:crypto';
import { lastValueFrom, type Observable, type Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { PlaybackChangeHub } from '../src/events/playback-change.hub.js';
import { startPlaybackHarness, type PlaybackHarness } from './playback-harness.js';

type Client = playbackV1.PlaybackServiceClient;

const QUEUE_MAX_ITEMS = 30;
const { REPEAT_MODE_CONTEXT, REPEAT_MODE_TRACK } = playbackV1.RepeatMode;
const {
  PLAYBACK_EVENT_KIND_QUEUE_CHANGED: QUEUE_CHANGED,
  PLAYBACK_EVENT_KIND_STATE_CHANGED: STATE_CHANGED,
  PLAYBACK_EVENT_KIND_RESYNC: RESYNC,
  PLAYBACK_EVENT_KIND_DRAINING: DRAINING,
} = playbackV1.PlaybackEventKind;

const TRACKS = Array.from({ length: 12 }, () => randomUUID());
const SHORT = randomUUID();
const CATALOGUE = new Map<string, number>([...TRACKS.map((id): [string, number] => [id, 200_000]), [SHORT, 20_000]]);
const [T0, T1, T2, T3, T4] = TRACKS as [string, string, string, string, string];

describe('queue editing, playback handoff, history and change events (real PostgreSQL, real gRPC)', () => {
  let service: GrpcTestService<Client>;
  // Calls carry an access token for the request's userId, as the gateway's do.
  let client: Client;

  const md = () => new Metadata();
  const opts = () => withDeadline(5_000);
  const call = <T>(fn: (c: Client) => Observable<T>): Promise<T> => unary(fn(client));
  const failure = async (promise: Promise<unknown>) =>
    readGrpcError(
      await promise.then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
  const ids = (queue: playbackV1.Queue) => queue.items.map((i) => i.queueItemId);
  const tracksOf = (queue: playbackV1.Queue) => queue.items.map((i) => i.trackId);

  const getQueue = (userId: string) => call((c) => c.getQueue({ userId }, md(), opts())).then((r) => r.queue!);
  const add = (userId: string, trackIds: string[], deviceId = '', expectedVersion?: number) =>
    call((c) => c.addToQueue({ userId, trackIds, expectedVersion, deviceId }, md(), opts())).then((r) => r.queue!);
  const insertNext = (userId: string, trackIds: string[], expectedVersion?: number) =>
    call((c) => c.insertNext({ userId, trackIds, expectedVersion, deviceId: '' }, md(), opts())).then((r) => r.queue!);
  const move = (userId: string, queueItemId: string, beforeQueueItemId = '', deviceId = '', expectedVersion?: number) =>
    call((c) => c.moveQueueItem({ userId, queueItemId, beforeQueueItemId, expectedVersion, deviceId }, md(), opts())).then((r) => r.queue!);
  const removeMany = (userId: string, queueItemIds: string[], deviceId = '') =>
    call((c) => c.removeQueueItems({ userId, queueItemIds, deviceId }, md(), opts())).then((r) => r.queue!);
  const clear = (userId: string, upcomingOnly: boolean) =>
    call((c) => c.clearQueue({ userId, upcomingOnly, deviceId: '' }, md(), opts())).then((r) => r.queue!);
  const replace = (userId: string, trackIds: string[]) =>
    call((c) => c.replaceQueue({ userId, trackIds, deviceId: '' }, md(), opts())).then((r) => r.queue!);
  const shuffle = (userId: string, on: boolean, expectedVersion?: number) =>
    call((c) => c.setShuffle({ userId, shuffle: on, expectedVersion, deviceId: '' }, md(), opts())).then((r) => r.queue!);
  const repeat = (userId: string, mode: playbackV1.RepeatMode) =>
    call((c) => c.setRepeat({ userId, repeat: mode, deviceId: '' }, md(), opts())).then((r) => r.queue!);
  const next = (userId: string, deviceId = 'phone', trackEnded = false) =>
    call((c) => c.skipToNext({ userId, deviceId, trackEnded }, md(), opts())).then((r) => r.state!);
  const previous = (userId: string, deviceId = 'phone') =>
    call((c) => c.skipToPrevious({ userId, deviceId }, md(), opts())).then((r) => r.state!);
  const jump = (userId: string, queueItemId: string, deviceId = 'phone') =>
    call((c) => c.jumpToItem({ userId, deviceId, queueItemId }, md(), opts())).then((r) => r.state!);
  const transfer = (userId: string, deviceId: string, play?: boolean) =>
    call((c) => c.transferPlayback({ userId, deviceId, play }, md(), opts())).then((r) => r.state!);
  const report = (
    userId: string,
    queueItemId: string,
    positionMs: number,
    deviceId: string,
    extra: Partial<playbackV1.ReportProgressRequest> = {},
  ) =>
    call((c) =>
      c.reportProgress(
        { userId, deviceId, queueItemId, positionMs, isPlaying: true, playbackRate: 0, takeOver: false, ...extra },
        md(),
        opts(),
      ),
    );
  const state = (userId: string) => call((c) => c.getPlaybackState({ userId }, md(), opts())).then((r) => r.state);
  const devices = (userId: string) => call((c) => c.listDevices({ userId }, md(), opts())).then((r) => r.devices);
  const recent = (userId: string, limit: number, cursor = '', includeSkips = false) =>
    call((c) => c.listRecentlyPlayed({ userId, limit, cursor, includeSkips }, md(), opts()));

  let harness: PlaybackHarness;

  beforeAll(async () => {
    harness = await startPlaybackHarness(inject('postgresServerUrl'), 'playback_edit', {
      catalogue: CATALOGUE,
      queueMaxItems: QUEUE_MAX_ITEMS,
    });
    ({ service, client } = harness);
  });

  afterAll(() => harness?.stop());

  describe('queue operations', () => {
    it('inserts next after the current item, appends at the end, and keeps the same track as distinct items', async () => {
      const user = randomUUID();
      const [a] = ids(await add(user, [T0, T1]));
      await next(user); // a is current
      const queue = await insertNext(user, [T2, T2]);
      expect(tracksOf(queue)).toEqual([T0, T2, T2, T1]);
      expect(new Set(ids(queue)).size).toBe(4);
      expect(queue.currentQueueItemId).toBe(a);
      expect(tracksOf(await add(user, [T3]))).toEqual([T0, T2, T2, T1, T3]);
      // Nothing current: insert next puts tracks first.
      const other = randomUUID();
      await add(other, [T0]);
      expect(tracksOf(await insertNext(other, [T1]))).toEqual([T1, T0]);
    });

    it('moves an item before another or to the end; unknown items change nothing', async () => {
      const user = randomUUID();
      const [a, b, c, d] = ids(await add(user, [T0, T1, T2, T3]));
      expect(ids(await move(user, d!, b!))).toEqual([a, d, b, c]);
      expect(ids(await move(user, a!))).toEqual([d, b, c, a]);
      const before = await getQueue(user);
      expect(await failure(move(user, a!, randomUUID()))).toMatchObject({ code: status.NOT_FOUND, reason: 'QUEUE_ITEM_NOT_FOUND' });
      expect(await failure(move(user, a!, a!))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_MOVE' });
      expect(await getQueue(user)).toEqual(before);
    });

    it('removes several items all or none, moving playback off a removed current item', async () => {
      const user = randomUUID();
      const [a, b, c, d] = ids(await add(user, [T0, T1, T2, T3]));
      await next(user);
      const unknown = randomUUID();
      const error = await failure(removeMany(user, [b!, unknown]));
      expect(error).toMatchObject({ code: status.NOT_FOUND, reason: 'QUEUE_ITEM_NOT_FOUND' });
      expect(error?.details).toContain(unknown);
      expect(ids(await getQueue(user))).toEqual([a, b, c, d]);

      const queue = await removeMany(user, [a!, b!]);
      expect(ids(queue)).toEqual([c, d]);
      expect(queue.currentQueueItemId).toBe(c);
      expect((await state(user))?.currentItem?.queueItemId).toBe(c);
    });

    it('clears the upcoming items, or everything (stopping playback)', async () => {
      const user = randomUUID();
      const [a] = ids(await add(user, [T0, T1, T2]));
      await next(user);
      expect(ids(await clear(user, true))).toEqual([a]);
      const empty = await clear(user, false);
      expect(empty).toMatchObject({ items: [], currentQueueItemId: '' });
      expect(await state(user)).toMatchObject({ currentItem: null, isPlaying: false });
    });

    it('replaces the queue, leaving nothing current', async () => {
      const user = randomUUID();
      await add(user, [T0, T1]);
      await next(user);
      const queue = await replace(user, [T3, T4, T3]);
      expect(tracksOf(queue)).toEqual([T3, T4, T3]);
      expect(queue.currentQueueItemId).toBe('');
      expect((await state(user))?.currentItem).toBeNull();
    });

    it('shuffles the upcoming items and restores their order when shuffle is turned off, keeping items added meanwhile', async () => {
      const user = randomUUID();
      const original = ids(await add(user, TRACKS.slice(0, 10)));
      await next(user); // the first item is current
      const shuffled = await shuffle(user, true);
      expect(shuffled.shuffle).toBe(true);
      expect(ids(shuffled)[0]).toBe(original[0]);
      expect([...ids(shuffled)].sort()).toEqual([...original].sort());
      // Turning it on again changes nothing, not even the version.
      expect((await shuffle(user, true)).version).toBe(shuffled.version);

      const [added] = ids(await add(user, [T0])).filter((id) => !original.includes(id));
      const restored = await shuffle(user, false);
      expect(restored.shuffle).toBe(false);
      expect(ids(restored)).toEqual([...original, added]);
    });

    it('wraps around under repeat context and restarts the track under repeat track', async () => {
      const user = randomUUID();
      const [a, b] = ids(await add(user, [T0, T1]));
      await next(user);
      await next(user);
      expect(await failure(next(user))).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'NO_NEXT_TRACK' });
      expect((await repeat(user, REPEAT_MODE_CONTEXT)).repeat).toBe(REPEAT_MODE_CONTEXT);
      expect((await next(user)).currentItem?.queueItemId).toBe(a);
      expect((await previous(user)).currentItem?.queueItemId).toBe(b);
      await repeat(user, REPEAT_MODE_TRACK);
      expect((await next(user, 'phone', true)).currentItem?.queueItemId).toBe(b);
      // A skip still moves on (wrapping), only a track that ended replays.
      expect((await next(user, 'phone', false)).currentItem?.queueItemId).toBe(a);
    });

    it('jumps to an item', async () => {
      const user = randomUUID();
      const [, , c] = ids(await add(user, [T0, T1, T2]));
      const jumped = await jump(user, c!, 'tv');
      expect(jumped).toMatchObject({ deviceId: 'tv', currentItem: { queueItemId: c }, positionMs: 0, isPlaying: true });
      expect(await failure(jump(user, randomUUID()))).toMatchObject({ code: status.NOT_FOUND });
      expect(await failure(previous(randomUUID()))).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'QUEUE_EMPTY' });
    });

    it('refuses stale expected versions on every kind of edit, changing nothing', async () => {
      const user = randomUUID();
      const queue = await add(user, [T0, T1]);
      const stale = queue.version - 1;
      for (const attempt of [
        () => add(user, [T2], '', stale),
        () => insertNext(user, [T2], stale),
        () => move(user, ids(queue)[1]!, ids(queue)[0]!, '', stale),
        () => shuffle(user, true, stale),
      ]) {
        expect(await failure(attempt())).toMatchObject({ code: status.ABORTED, reason: 'VERSION_MISMATCH' });
      }
      expect(await getQueue(user)).toEqual(queue);
    });

    it('keeps the queue within QUEUE_MAX_ITEMS for every way of adding', async () => {
      const user = randomUUID();
      await add(
        user,
        Array.from({ length: QUEUE_MAX_ITEMS - 1 }, () => T0),
      );
      expect(await failure(insertNext(user, [T1, T1]))).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'QUEUE_FULL' });
      expect(
        await failure(
          replace(
            user,
            Array.from({ length: QUEUE_MAX_ITEMS + 1 }, () => T0),
          ),
        ),
      ).toMatchObject({ reason: 'QUEUE_FULL' });
      expect((await insertNext(user, [T1])).items).toHaveLength(QUEUE_MAX_ITEMS);
    });

    it('applies concurrent item edits from two devices without losing or duplicating an item', async () => {
      const user = randomUUID();
      const initial = ids(await add(user, TRACKS.slice(0, 10)));
      // Device A appends ten tracks one by one while device B removes five items and moves one, all at once.
      const fromA = TRACKS.slice(0, 10).map((track) => add(user, [track], 'phone'));
      const fromB = [...initial.slice(0, 5).map((id) => removeMany(user, [id], 'laptop')), move(user, initial[9]!, initial[5]!, 'laptop')];
      const results = await Promise.all([...fromA, ...fromB]);
      // Each edit got a version of its own.
      expect(new Set(results.map((q) => q.version)).size).toBe(results.length);

      const queue = await getQueue(user);
      const kept = initial.slice(5);
      expect(new Set(ids(queue)).size).toBe(queue.items.length);
      expect(queue.items).toHaveLength(15);
      for (const id of kept) expect(ids(queue)).toContain(id);
      for (const id of initial.slice(0, 5)) expect(ids(queue)).not.toContain(id);
      expect(ids(queue).indexOf(initial[9]!)).toBeLessThan(ids(queue).indexOf(initial[5]!));
      expect(queue.version).toBe(1 + results.length);
    });

    it('rejects malformed edits with INVALID_ARGUMENT naming the field', async () => {
      const user = randomUUID();
      const malformed = await failure(move(user, 'not-an-id'));
      expect(malformed).toMatchObject({ code: status.INVALID_ARGUMENT });
      expect(malformed?.details).toMatch(/queueItemId/);
      expect(await failure(repeat(user, 9 as playbackV1.RepeatMode))).toMatchObject({ code: status.INVALID_ARGUMENT });
      expect(await failure(removeMany(user, []))).toMatchObject({ code: status.INVALID_ARGUMENT });
    });
  });

  describe('playback state across devices', () => {
    it('ignores heartbeats older than the newest accepted one from the same device', async () => {
      const user = randomUUID();
      const [a] = ids(await add(user, [T0, T1]));
      await next(user, 'phone');
      expect((await report(user, a!, 30_000, 'phone', { clientTimestampMs: 3_000 })).applied).toBe(true);
      const late = await report(user, a!, 20_000, 'phone', { clientTimestampMs: 2_000 });
      expect(late).toMatchObject({ applied: false, ignoredReason: 'STALE_REPORT', state: { positionMs: 30_000 } });
      const duplicate = await report(user, a!, 25_000, 'phone', { clientTimestampMs: 3_000 });
      expect(duplicate.applied).toBe(false);
      expect((await state(user))?.positionMs).toBe(30_000);
      expect((await report(user, a!, 35_000, 'phone', { clientTimestampMs: 4_000 })).state?.positionMs).toBe(35_000);
    });

    it('ignores late heartbeats for the item played before a skip', async () => {
      const user = randomUUID();
      const [a, b] = ids(await add(user, [T0, T1]));
      await next(user, 'phone');
      await report(user, a!, 10_000, 'phone', { clientTimestampMs: 10 });
      await next(user, 'phone');
      expect((await report(user, a!, 15_000, 'phone', { clientTimestampMs: 9 })).ignoredReason).toBe('STALE_REPORT');
      expect((await state(user))?.currentItem?.queueItemId).toBe(b);
    });

    it('hands playback over to another device at the extrapolated position', async () => {
      const user = randomUUID();
      const [a] = ids(await add(user, [T0, T1]));
      await next(user, 'phone');
      const reported = await report(user, a!, 60_000, 'phone');
      // Another device's report does not move the state unless it takes over.
      const intrusion = await report(user, a!, 5_000, 'laptop');
      expect(intrusion).toMatchObject({
        applied: false,
        ignoredReason: 'NOT_ACTIVE_DEVICE',
        state: { deviceId: 'phone', positionMs: 60_000 },
      });

      const before = Date.now();
      const moved = await transfer(user, 'laptop');
      const elapsedBound = Date.now() - new Date(reported.state!.updatedAt).getTime();
      expect(moved.deviceId).toBe('laptop');
      expect(moved.isPlaying).toBe(true);
      expect(moved.positionMs).toBeGreaterThanOrEqual(60_000);
      expect(moved.positionMs).toBeLessThanOrEqual(60_000 + elapsedBound + (Date.now() - before));
      expect(moved.version).toBe(reported.state!.version + 1);

      // Now the phone is the other device.
      expect((await report(user, a!, 70_000, 'phone')).ignoredReason).toBe('NOT_ACTIVE_DEVICE');
      expect((await report(user, a!, 5_000, 'phone', { takeOver: true })).state).toMatchObject({ deviceId: 'phone', positionMs: 5_000 });

      const paused = await transfer(user, 'speaker', false);
      expect(paused).toMatchObject({ deviceId: 'speaker', isPlaying: false });
      expect((await transfer(user, 'tv')).positionMs).toBe(paused.positionMs);
    });

    it('answers NO_ACTIVE_DEVICE for a transfer before anything played, and lists devices with the active one', async () => {
      const user = randomUUID();
      expect(await failure(transfer(user, 'phone'))).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'NO_ACTIVE_DEVICE' });
      await add(user, [T0]);
      await next(user, 'phone');
      await transfer(user, 'laptop');
      const listed = await devices(user);
      expect(listed.map((d) => [d.deviceId, d.isActive])).toEqual([
        ['laptop', true],
        ['phone', false],
      ]);
      expect(new Date(listed[0]!.lastSeenAt).getTime()).toBeGreaterThanOrEqual(new Date(listed[1]!.lastSeenAt).getTime());
    });

    it('reports positions past the end of the track as INVALID_ARGUMENT even from another device', async () => {
      const user = randomUUID();
      const [a] = ids(await add(user, [T0]));
      await next(user, 'phone');
      expect(await failure(report(user, a!, 200_001, 'laptop'))).toMatchObject({
        code: status.INVALID_ARGUMENT,
        reason: 'POSITION_OUT_OF_RANGE',
      });
    });
  });

  describe('recently played', () => {
    it('pages through plays newest first with a cursor, skips on request, and refuses foreign cursors', async () => {
      const user = randomUUID();
      const items = ids(await add(user, [SHORT, SHORT, SHORT, SHORT, SHORT, T0, T1]));
      for (const item of items.slice(0, 5)) {
        await next(user);
        await report(user, item, 20_000, 'phone');
      }
      await next(user); // the sixth item, left at 0 s: a skip
      await next(user);

      const first = await recent(user, 2);
      expect(first.items.map((i) => i.queueItemId)).toEqual([items[4], items[3]]);
      const second = await recent(user, 2, first.nextCursor);
      expect(second.items.map((i) => i.queueItemId)).toEqual([items[2], items[1]]);
      const third = await recent(user, 2, second.nextCursor);
      expect(third.items.map((i) => i.queueItemId)).toEqual([items[0]]);
      expect(third.nextCursor).toBe('');

      const withSkips = await recent(user, 10, '', true);
      expect(withSkips.items.map((i) => i.kind)).toEqual(['skip', 'play', 'play', 'play', 'play', 'play']);
      expect(await failure(recent(randomUUID(), 2, first.nextCursor))).toMatchObject({
        code: status.INVALID_ARGUMENT,
        reason: 'INVALID_CURSOR',
      });
      expect(await failure(recent(user, 2, 'garbage'))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_CURSOR' });
    });
  });

  describe('change events', () => {
    it('streams a resync, then every committed queue and state change with its version, and nothing for a failed edit', async () => {
      const user = randomUUID();
      const events: playbackV1.PlaybackEvent[] = [];
      const subscription: Subscription = service.client.watchEvents({}, md()).subscribe({ next: (r) => r.event && events.push(r.event) });
      try {
        await vi.waitFor(() => expect(events[0]?.kind).toBe(RESYNC), { timeout: 5_000 });
        const queue = await add(user, [T0, T1], 'phone');
        expect(await failure(add(user, [T2], 'phone', 0))).toMatchObject({ code: status.ABORTED });
        const started = await next(user, 'laptop');
        const mine = () => events.filter((e) => e.userId === user);
        await vi.waitFor(() => expect(mine()).toHaveLength(3), { timeout: 5_000 });
        expect(mine()[0]).toMatchObject({ kind: QUEUE_CHANGED, version: queue.version, change: 'add', deviceId: 'phone' });
        expect(mine()[1]).toMatchObject({ kind: QUEUE_CHANGED, version: queue.version + 1, change: 'current', deviceId: 'laptop' });
        expect(mine()[2]).toMatchObject({
          kind: STATE_CHANGED,
          version: started.version,
          deviceId: 'laptop',
          state: { deviceId: 'laptop', currentItem: { queueItemId: ids(queue)[0] }, isPlaying: true },
        });
      } finally {
        subscription.unsubscribe();
      }
    });

    it('re-listens after losing its database connection, telling watchers to resync, and streams again', async () => {
      const user = randomUUID();
      const events: playbackV1.PlaybackEvent[] = [];
      const subscription = service.client.watchEvents({}, md()).subscribe({ next: (r) => r.event && events.push(r.event) });
      try {
        await vi.waitFor(() => expect(events.filter((e) => e.kind === RESYNC)).toHaveLength(1), { timeout: 5_000 });
        const killed: unknown[] = await service.dataSource.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE application_name = 'overture-playback-listen' AND datname = current_database()`,
        );
        expect(killed).toHaveLength(1);
        await vi.waitFor(() => expect(events.filter((e) => e.kind === RESYNC)).toHaveLength(2), { timeout: 10_000 });
        const queue = await add(user, [T0]);
        await vi.waitFor(
          () => expect(events.find((e) => e.userId === user)).toMatchObject({ kind: QUEUE_CHANGED, version: queue.version }),
          {
            timeout: 5_000,
          },
        );
      } finally {
        subscription.unsubscribe();
      }
    });
  });
});

describe('change events while a replica drains for shutdown (real PostgreSQL, real gRPC)', () => {
  // A replica of its own: draining ends its hub for good. The grace is long, so that nothing here
  // races it; the drain ends when the watcher goes.
  let harness: PlaybackHarness;

  beforeAll(async () => {
    harness = await startPlaybackHarness(inject('postgresServerUrl'), 'playback_drain', {
      catalogue: CATALOGUE,
      queueMaxItems: QUEUE_MAX_ITEMS,
      watchDrainGraceMs: 120_000,
    });
  });

  afterAll(() => harness?.stop());

  it('tells watchers it is draining, streams committed changes during the grace, refuses new watches with UNAVAILABLE, and ends when they go', async () => {
    const { service, client } = harness;
    const user = randomUUID();
    const events: playbackV1.PlaybackEvent[] = [];
    let ended = false;
    const subscription = service.client.watchEvents({}, new Metadata()).subscribe({
      next: (r) => r.event && events.push(r.event),
      error: () => (ended = true),
      complete: () => (ended = true),
    });
    try {
      await vi.waitFor(() => expect(events[0]?.kind).toBe(RESYNC), { timeout: 5_000 });
      let drained = false;
      const draining = service.running.app
        .get(PlaybackChangeHub)
        .drain()
        .then(() => (drained = true));
      await vi.waitFor(() => expect(events.map((e) => e.kind)).toEqual([RESYNC, DRAINING]), { timeout: 5_000 });

      // The replica still serves, and its watchers still hear every change committed meanwhile.
      const queue = (
        await unary(client.addToQueue({ userId: user, trackIds: [T0], deviceId: 'phone' }, new Metadata(), withDeadline(5_000)))
      ).queue!;
      await vi.waitFor(() => expect(events.find((e) => e.userId === user)).toMatchObject({ kind: QUEUE_CHANGED, version: queue.version }), {
        timeout: 5_000,
      });

      // A new watcher is sent elsewhere at once, not given a stream that ends.
      const refused = readGrpcError(await lastValueFrom(service.client.watchEvents({}, new Metadata())).catch((e: unknown) => e));
      expect(refused).toMatchObject({ code: status.UNAVAILABLE, reason: PlaybackReason.DRAINING });
      expect(ended).toBe(false);
      expect(drained).toBe(false);

      // The watcher has moved: the drain ends without waiting for its grace.
      subscription.unsubscribe();
      await draining;
    } finally {
      subscription.unsubscribe();
    }
  });
});
