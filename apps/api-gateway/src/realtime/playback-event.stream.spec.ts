import { Logger } from '@nestjs/common';
import { playbackV1 } from '@overture/contracts';
import { Subject, type Observable } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PlaybackEventStream, ROTATE_INTERVAL_MS } from './playback-event.stream.js';

const { PLAYBACK_EVENT_KIND_QUEUE_CHANGED: QUEUE_CHANGED, PLAYBACK_EVENT_KIND_RESYNC: RESYNC } = playbackV1.PlaybackEventKind;

const resync = (): playbackV1.WatchEventsResponse => ({
  event: { kind: RESYNC, userId: '', version: 0, change: '', deviceId: '', changedAtMs: 0 },
});
const change = (version: number): playbackV1.WatchEventsResponse => ({
  event: { kind: QUEUE_CHANGED, userId: 'ann', version, change: 'add', deviceId: '', changedAtMs: 0 },
});

/** The stream with WatchEvents replaced: each call opens a Subject the test drives. */
class TestStream extends PlaybackEventStream {
  readonly calls: Subject<playbackV1.WatchEventsResponse>[] = [];

  constructor() {
    super(undefined);
  }

  protected override watch(): Observable<playbackV1.WatchEventsResponse> {
    const call = new Subject<playbackV1.WatchEventsResponse>();
    this.calls.push(call);
    return call;
  }
}

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

  it('replaces the stream make-before-break: no resync, no gap, each change once and in order', () => {
    const [first] = stream.calls;
    first!.next(resync());
    first!.next(change(1));
    vi.advanceTimersByTime(ROTATE_INTERVAL_MS);
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

  it('lets a replacement take over when the current stream dies during the overlap, telling clients to resync', () => {
    stream.calls[0]!.next(resync());
    vi.advanceTimersByTime(ROTATE_INTERVAL_MS);
    stream.calls[0]!.complete();
    stream.calls[1]!.next(resync());
    stream.calls[1]!.next(change(6));
    expect(received).toEqual(['resync', 'resync', 'v6']);
  });
});
