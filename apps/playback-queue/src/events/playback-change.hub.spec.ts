import { Logger } from '@nestjs/common';
import { PlaybackReason } from '@overture/contracts';
import { DomainError, ErrorCategory } from '@overture/grpc';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PlaybackChangeHub } from './playback-change.hub.js';
import type { PlaybackChange } from './playback-change.js';

const GRACE_MS = 5_000;

/** A watcher's stream as it went: what it received, how it ended. */
function follow(hub: PlaybackChangeHub) {
  const seen = { kinds: [] as string[], error: undefined as unknown, completed: false };
  const subscription = hub.watch().subscribe({
    next: (change: PlaybackChange) => seen.kinds.push(change.kind),
    error: (error: unknown) => (seen.error = error),
    complete: () => (seen.completed = true),
  });
  return { seen, subscription };
}

// Never bootstrapped: no listening connection, only the watchers' side of the hub.
describe('PlaybackChangeHub drain', () => {
  let hub: PlaybackChangeHub;

  beforeEach(() => {
    vi.useFakeTimers();
    vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    hub = new PlaybackChangeHub({ DATABASE_URL: 'postgres://unused/none', WATCH_DRAIN_GRACE_MS: GRACE_MS });
  });

  afterEach(async () => {
    await hub.close();
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('tells watchers to move, refuses new ones with UNAVAILABLE, and closes once the last watcher has gone', async () => {
    const first = follow(hub);
    const second = follow(hub);
    let drained = false;
    void hub.drain().then(() => (drained = true));
    expect(first.seen.kinds).toEqual(['resync', 'draining']);
    expect(second.seen.kinds).toEqual(['resync', 'draining']);

    const late = follow(hub);
    expect(late.seen.kinds).toEqual([]);
    expect(late.seen.error).toBeInstanceOf(DomainError);
    expect(late.seen.error).toMatchObject({ category: ErrorCategory.Unavailable, reason: PlaybackReason.DRAINING });

    first.subscription.unsubscribe();
    await vi.advanceTimersByTimeAsync(0);
    expect(drained).toBe(false);
    expect(second.seen.completed).toBe(false);
    second.subscription.unsubscribe();
    await vi.advanceTimersByTimeAsync(0);
    expect(drained).toBe(true);
  });

  it('ends the streams of watchers that have not moved when the grace is over', async () => {
    const stayer = follow(hub);
    let drained = false;
    void hub.drain().then(() => (drained = true));
    await vi.advanceTimersByTimeAsync(GRACE_MS - 1);
    expect(stayer.seen.completed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(stayer.seen).toMatchObject({ kinds: ['resync', 'draining'], completed: true });
    expect(drained).toBe(true);
  });

  it('closes at once when nobody watches, and refuses watchers after closing', async () => {
    await hub.drain();
    expect(follow(hub).seen.error).toMatchObject({ reason: PlaybackReason.DRAINING });
  });
});
