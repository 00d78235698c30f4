import { Metadata, status } from '@grpc/grpc-js';
import type { playbackV1 } from '@overture/contracts';
import { readGrpcError, unary, withDeadline } from '@overture/grpc';
import { IdempotencyPurge } from '@overture/idempotency';
import { randomUUID } from 'node:crypto';
import type { Observable } from 'rxjs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPlaybackHarness, type PlaybackHarness } from './playback-harness.js';

type Client = playbackV1.PlaybackServiceClient;

const TRACKS = Array.from({ length: 6 }, () => randomUUID());
const CATALOGUE = new Map<string, number>(TRACKS.map((id): [string, number] => [id, 200_000]));
const [T0, T1, T2] = TRACKS as [string, string, string];

describe('idempotency keys on playback writes (real PostgreSQL, real gRPC)', () => {
  let harness: PlaybackHarness;
  let client: Client;

  beforeAll(async () => {
    harness = await startPlaybackHarness(inject('postgresServerUrl'), 'playback_idem', { catalogue: CATALOGUE, queueMaxItems: 100 });
    ({ client } = harness);
  });

  afterAll(() => harness?.stop());

  const call = <T>(fn: (c: Client) => Observable<T>): Promise<T> => unary(fn(client));
  const md = () => new Metadata();
  const opts = () => withDeadline(5_000);
  const failure = async (promise: Promise<unknown>) =>
    readGrpcError(
      await promise.then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
  const add = (userId: string, trackIds: string[], idempotencyKey?: string) =>
    call((c) => c.addToQueue({ userId, trackIds, deviceId: '', idempotencyKey }, md(), opts()));
  const insertNext = (userId: string, trackIds: string[], idempotencyKey?: string) =>
    call((c) => c.insertNext({ userId, trackIds, deviceId: '', idempotencyKey }, md(), opts()));
  const next = (userId: string, idempotencyKey?: string, deviceId = 'phone') =>
    call((c) => c.skipToNext({ userId, deviceId, trackEnded: false, idempotencyKey }, md(), opts()));
  const previous = (userId: string, idempotencyKey?: string) =>
    call((c) => c.skipToPrevious({ userId, deviceId: 'phone', idempotencyKey }, md(), opts()));
  const report = (userId: string, queueItemId: string, positionMs: number, idempotencyKey?: string) =>
    call((c) =>
      c.reportProgress(
        { userId, deviceId: 'phone', queueItemId, positionMs, isPlaying: true, playbackRate: 0, takeOver: false, idempotencyKey },
        md(),
        opts(),
      ),
    );
  const transfer = (userId: string, deviceId: string, idempotencyKey?: string) =>
    call((c) => c.transferPlayback({ userId, deviceId, idempotencyKey }, md(), opts()));
  const queueOf = (userId: string) => call((c) => c.getQueue({ userId }, md(), opts())).then((r) => r.queue!);
  const history = (userId: string): Promise<{ kind: string }[]> =>
    harness.service.dataSource.query('SELECT kind FROM play_history WHERE user_id = $1 ORDER BY occurred_at', [userId]);
  const outboxCount = async (userId: string): Promise<number> => {
    const rows: { n: number }[] = await harness.service.dataSource.query('SELECT count(*)::int AS n FROM outbox WHERE user_id = $1', [
      userId,
    ]);
    return rows[0]!.n;
  };
  const without = <T extends { replayed: boolean }>(response: T): Omit<T, 'replayed'> => {
    const { replayed: _replayed, ...rest } = response;
    return rest;
  };

  it('applies a queue add once: a retry with the key answers the first answer, marked replayed', async () => {
    const user = randomUUID();
    const key = randomUUID();
    const first = await add(user, [T0, T1], key);
    const retry = await add(user, [T0, T1], key);
    expect(first.replayed).toBe(false);
    expect(retry.replayed).toBe(true);
    expect(without(retry)).toEqual(without(first));
    const queue = await queueOf(user);
    expect(queue.items).toHaveLength(2);
    expect(queue.version).toBe(first.queue!.version);
  });

  it('skips once when next is retried with its key: one skip event, the same state', async () => {
    const user = randomUUID();
    await add(user, [T0, T1, T2]);
    await next(user);
    const key = randomUUID();
    const first = await next(user, key);
    const retry = await next(user, key);
    expect(without(retry)).toEqual(without(first));
    expect((await queueOf(user)).currentQueueItemId).toBe(first.state!.currentItem!.queueItemId);
    expect(await history(user)).toEqual([{ kind: 'skip' }]);
    expect(await outboxCount(user)).toBe(1);
  });

  it('records a play once when a progress report is retried with its key', async () => {
    const user = randomUUID();
    await add(user, [T0, T1]);
    const item = (await next(user)).state!.currentItem!.queueItemId;
    const key = randomUUID();
    const first = await report(user, item, 40_000, key);
    const retry = await report(user, item, 40_000, key);
    expect(first.applied).toBe(true);
    expect(without(retry)).toEqual(without(first));
    expect(await history(user)).toEqual([{ kind: 'play' }]);
  });

  it('replays an ignored report as ignored, and a transfer as the first transfer', async () => {
    const user = randomUUID();
    await add(user, [T0]);
    const item = (await next(user)).state!.currentItem!.queueItemId;
    const moved = await transfer(user, 'laptop', 'transfer-1');
    expect(moved.state!.deviceId).toBe('laptop');
    // The phone is no longer active: its report is ignored, and so is the retry, the same way.
    const key = randomUUID();
    const ignored = await report(user, item, 1_000, key);
    expect(ignored).toMatchObject({ applied: false, ignoredReason: 'NOT_ACTIVE_DEVICE' });
    expect(without(await report(user, item, 1_000, key))).toEqual(without(ignored));
    const again = await transfer(user, 'laptop', 'transfer-1');
    expect(again).toMatchObject({ replayed: true, state: moved.state });
  });

  it('refuses the same key with a different request to the same operation, adds at the end and next alike', async () => {
    const user = randomUUID();
    const key = randomUUID();
    await add(user, [T0], key);
    expect(await failure(add(user, [T1], key))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'IDEMPOTENCY_KEY_REUSED' });
    expect(await failure(insertNext(user, [T0], key))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'IDEMPOTENCY_KEY_REUSED' });
    expect((await queueOf(user)).items).toHaveLength(1);
  });

  it('keeps keys per user and per operation', async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const key = 'shared-key';
    await add(alice, [T0, T1, T2], key);
    expect((await add(bob, [T0, T1, T2], key)).replayed).toBe(false);
    await next(alice, key);
    expect((await next(alice, key)).replayed).toBe(true);
    await next(alice);
    // Another operation with the same key is another request: it applies.
    const back = await previous(alice, key);
    expect(back.replayed).toBe(false);
    expect((await queueOf(bob)).items).toHaveLength(3);
  });

  it('stores nothing for a call that fails: a retry after the cause is gone applies', async () => {
    const user = randomUUID();
    await add(user, [T0]);
    await next(user);
    const key = randomUUID();
    expect(await failure(next(user, key))).toMatchObject({ reason: 'NO_NEXT_TRACK' });
    await add(user, [T1]);
    const retried = await next(user, key);
    expect(retried.replayed).toBe(false);
    expect(retried.state!.currentItem!.trackId).toBe(T1);
  });

  it('answers IDEMPOTENCY_KEY_IN_USE while the first call with the key is still running, and its answer afterwards', async () => {
    const user = randomUUID();
    await add(user, [T0, T1, T2]);
    await next(user);
    const key = randomUUID();
    // Hold the user's queue row, so that the first call stops inside its transaction, key taken.
    const blocker = harness.service.dataSource.createQueryRunner();
    await blocker.connect();
    await blocker.startTransaction();
    try {
      await blocker.query('SELECT 1 FROM queues WHERE user_id = $1 FOR UPDATE', [user]);
      const first = next(user, key);
      await waitForLockWaiter(harness);
      expect(await failure(next(user, key))).toMatchObject({ code: status.ABORTED, reason: 'IDEMPOTENCY_KEY_IN_USE' });
      await blocker.commitTransaction();
      const answered = await first;
      expect(without(await next(user, key))).toEqual(without(answered));
    } finally {
      if (blocker.isTransactionActive) await blocker.rollbackTransaction();
      await blocker.release();
    }
    expect(await history(user)).toEqual([{ kind: 'skip' }]);
  });

  it('applies a burst of identical concurrent calls once: every answer is the first one or IN_USE', async () => {
    const user = randomUUID();
    await add(user, [T0, T1, T2]);
    await next(user);
    const key = randomUUID();
    const answers = await Promise.allSettled(Array.from({ length: 8 }, () => next(user, key)));
    const states = answers.filter((a) => a.status === 'fulfilled').map((a) => without(a.value));
    const refused = answers.filter((a) => a.status === 'rejected').map((a) => readGrpcError(a.reason));
    expect(states.length).toBeGreaterThanOrEqual(1);
    for (const state of states) expect(state).toEqual(states[0]);
    for (const error of refused) expect(error).toMatchObject({ code: status.ABORTED, reason: 'IDEMPOTENCY_KEY_IN_USE' });
    expect(await history(user)).toEqual([{ kind: 'skip' }]);
    expect(without(await next(user, key))).toEqual(states[0]);
  });

  it('refuses a key that is not 1 to 255 safe characters', async () => {
    const user = randomUUID();
    for (const key of ['', 'x'.repeat(256), 'with space', 'é']) {
      expect(await failure(add(user, [T0], key))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'INVALID_ARGUMENT' });
    }
    expect((await queueOf(user)).items).toHaveLength(0);
  });

  it('forgets keys older than the retention: the purge deletes them and the key can be used again', async () => {
    const user = randomUUID();
    const key = randomUUID();
    await add(user, [T0], key);
    await harness.service.dataSource.query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE scope = $1", [user]);
    // An expired key not yet purged is as good as gone.
    expect((await add(user, [T0], key)).replayed).toBe(false);
    expect((await queueOf(user)).items).toHaveLength(2);
    await harness.service.dataSource.query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE scope = $1", [user]);
    expect(await harness.service.running.app.get(IdempotencyPurge).run()).toBeGreaterThanOrEqual(1);
    const left: unknown[] = await harness.service.dataSource.query('SELECT 1 FROM idempotency_keys WHERE scope = $1', [user]);
    expect(left).toEqual([]);
  });
});

/** Waits until a call waits for a row lock (the blocked first call has claimed its key by then). */
async function waitForLockWaiter(harness: PlaybackHarness): Promise<void> {
  for (;;) {
    const rows: unknown[] = await harness.service.dataSource.query(
      "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%' AND datname = current_database()",
    );
    if (rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
