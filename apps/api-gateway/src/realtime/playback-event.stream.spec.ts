import type { Metadata } from '@grpc/grpc-js';
import { Logger } from '@nestjs/common';
import { playbackV1 } from '@overture/contracts';
import { Subject, type Observable } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { gatewayConfigSchema } from '../gateway.config.js';
import { HANDOVER_SETTLE_MS, PlaybackEventStream } from './playback-event.stream.js';
import { eventStreamHandovers, eventStreamResyncs } from './realtime.metrics.js';

const {
  PLAYBACK_EVENT_KIND_QUEUE_CHANGED: QUEUE_CHANGED,
  PLAYBACK_EVENT_KIND_RESYNC: RESYNC,
  PLAYBACK_EVENT_KIND_DRAINING: DRAINING,
} = playbackV1.PlaybackEventKind;

const signal = (kind: playbackV1.PlaybackEventKind): playbackV1.WatchEventsResponse => ({
  event: { kind, userId: '', version: 0, change: '', deviceId: '', changedAtMs: 0 },
});
const resync = () => signal(RESYNC);
const draining = () => signal(DRAINING);
const change = (version: number): playbackV1.WatchEventsResponse => ({
  event: { kind: QUEUE_CHANGED, userId: 'ann', version, change: 'add', deviceId: '', changedAtMs: 0 },
});
const refused = () => Object.assign(new Error('14 UNAVAILABLE: draining'), { code: 14 });

// The TLS folder is never read: the test replaces the call, so no client is made.
const config = gatewayConfigSchema.parse({ GRPC_TLS_DIR: '/nonexistent' });
const ROTATE_MS = config.PLAYBACK_STREAM_ROTATE_MS;

/** The stream with WatchEvents replaced: each call opens a Subject the test drives. */
class TestStream extends PlaybackEventStream {
  readonly calls: Subject<playbackV1.WatchEventsResponse>[] = [];

  constructor() {
    super(config);
  }

  protected override watch(_metadata: Metadata): Observable<playbackV1.WatchEventsResponse> {
    const call = new Subject<playbackV1.WatchEventsResponse>();
    this.calls.push(call);
    return call;
  }
}

const handovers = async (cause: string) => (await eventStreamHandovers.get()).values.find((v) => v.labels.cause === cause)?.value ?? 0;
const resyncs = async () => (await eventStreamResyncs.get()).values[0]?.value ?? 0;

describe('PlaybackEventStream', () => {
  let stream: TestStream;
  let received: string[];

  beforeEach(() => {
    vi.useFakeTimers();
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    stream = new TestStream();
    received = [];
    stream.events.subscribe((event) => received.push(event.kind === RESYNC ? 'resync' : `v${event.version}`));
    stream.onApplicationBootstrap();
  });

  afterEach(() => {
    stream.beforeApplicationShutdown();
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  describe('rotation', () => {
    it('replaces the stream make-before-break: no resync, no gap, each change once and in order', () => {
      const [first] = stream.calls;
      first!.next(resync());
      first!.next(change(1));
      vi.advanceTimersByTime(ROTATE_MS);
      const second = stream.calls[1]!;
      // Both carry the same changes while they overlap; the replacement is not live before its RESYNC.
      first!.next(change(2));
      second.next(resync());
      second.next(change(3));
      first!.next(change(3));
      second.next(change(4));
      expect(received).toEqual(['resync', 'v1', 'v2', 'v3', 'v4']);
      expect(first!.observed).toBe(false); // the old call was closed
    });

    it('keeps the old stream until the new one is seen to overlap it, or for a settling moment', () => {
      const [first] = stream.calls;
      first!.next(resync());
      vi.advanceTimersByTime(ROTATE_MS);
      const second = stream.calls[1]!;
      second.next(resync());
      // A change committed just before the replacement started streaming, late on the old stream.
      first!.next(change(1));
      expect(first!.observed).toBe(true);
      vi.advanceTimersByTime(HANDOVER_SETTLE_MS);
      expect(first!.observed).toBe(false);
      second.next(change(2));
      expect(received).toEqual(['resync', 'v1', 'v2']);
    });

    it('lets a replacement take over when the current stream dies during the overlap, telling clients to resync', () => {
      stream.calls[0]!.next(resync());
      vi.advanceTimersByTime(ROTATE_MS);
      stream.calls[0]!.complete();
      stream.calls[1]!.next(resync());
      stream.calls[1]!.next(change(6));
      expect(received).toEqual(['resync', 'resync', 'v6']);
    });
  });

  it('reopens a stream that failed, with backoff, and passes its resync on', async () => {
    stream.calls[0]!.next(resync());
    stream.calls[0]!.error(Object.assign(new Error('14 UNAVAILABLE'), { code: 14 }));
    expect(stream.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    expect(stream.calls).toHaveLength(2);
    stream.calls[1]!.next(resync());
    stream.calls[1]!.next(change(5));
    expect(received).toEqual(['resync', 'resync', 'v5']);
  });

  describe('when the replica of the stream drains', () => {
    it('hands over to a new stream at once: no resync, each change once and in commit order', async () => {
      const [handoversBefore, resyncsBefore] = [await handovers('draining'), await resyncs()];
      const [first] = stream.calls;
      first!.next(resync());
      first!.next(change(1));
      first!.next(draining());
      expect(stream.calls).toHaveLength(2);
      const second = stream.calls[1]!;
      first!.next(change(2));
      second.next(resync());
      // The replacement started streaming after 2 was committed and before 3: it runs ahead of the
      // old stream, whose changes go out first.
      second.next(change(3));
      second.next(change(4));
      expect(received).toEqual(['resync', 'v1', 'v2']);
      first!.next(change(3));
      expect(first!.observed).toBe(false);
      second.next(change(5));
      expect(received).toEqual(['resync', 'v1', 'v2', 'v3', 'v4', 'v5']);
      expect(await handovers('draining')).toBe(handoversBefore + 1);
      expect(await resyncs()).toBe(resyncsBefore + 1); // the first stream's, at start
    });

    it('takes over without a resync when the draining stream ends cleanly after the replacement is live', () => {
      const [first] = stream.calls;
      first!.next(resync());
      first!.next(draining());
      const second = stream.calls[1]!;
      second.next(resync());
      second.next(change(1));
      first!.complete();
      second.next(change(2));
      expect(received).toEqual(['resync', 'v1', 'v2']);
    });

    it('retries a refused replacement quickly, with backoff, until one is live', async () => {
      const [first] = stream.calls;
      first!.next(resync());
      first!.next(draining());
      stream.calls[1]!.error(refused());
      expect(stream.calls).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(50);
      expect(stream.calls).toHaveLength(3);
      stream.calls[2]!.error(refused());
      await vi.advanceTimersByTimeAsync(100);
      expect(stream.calls).toHaveLength(4);
      const last = stream.calls[3]!;
      first!.next(change(7));
      last.next(resync());
      last.next(change(7));
      last.next(change(8));
      expect(received).toEqual(['resync', 'v7', 'v8']);
      expect(first!.observed).toBe(false);
    });

    it('drops a replacement whose replica drains too, and opens another', () => {
      const [first] = stream.calls;
      first!.next(resync());
      first!.next(draining());
      const second = stream.calls[1]!;
      second.next(resync());
      second.next(draining());
      expect(second.observed).toBe(false);
      expect(stream.calls).toHaveLength(3);
      stream.calls[2]!.next(resync());
      first!.complete();
      stream.calls[2]!.next(change(9));
      expect(received).toEqual(['resync', 'v9']);
    });

    it('falls back to a resync when no replacement is live before the draining stream ends', async () => {
      const [first] = stream.calls;
      first!.next(resync());
      first!.next(draining());
      stream.calls[1]!.error(refused());
      first!.complete();
      await vi.advanceTimersByTimeAsync(5_000);
      // The pending retry of the handover was dropped: one call, the reopened stream.
      expect(stream.calls).toHaveLength(3);
      stream.calls[2]!.next(resync());
      stream.calls[2]!.next(change(10));
      expect(received).toEqual(['resync', 'resync', 'v10']);
    });

    it('passes a resync on when the draining stream is cut, rather than ended, after the replacement is live', () => {
      const [first] = stream.calls;
      first!.next(resync());
      first!.next(draining());
      stream.calls[1]!.next(resync());
      first!.error(Object.assign(new Error('1 CANCELLED'), { code: 1 }));
      stream.calls[1]!.next(change(11));
      expect(received).toEqual(['resync', 'resync', 'v11']);
    });
  });
});
