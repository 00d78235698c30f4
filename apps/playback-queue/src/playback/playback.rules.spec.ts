import { DomainError } from '@overture/grpc';
import { describe, expect, it } from 'vitest';
import {
  applyProgress,
  assertCurrent,
  assertVersion,
  countsAsPlay,
  eventOnLeaving,
  extrapolatedPosition,
  ignoredReason,
  nextItem,
  previousItem,
  replaceRemovedItem,
  requireItem,
  startItem,
  transferTo,
  type ProgressReport,
} from './playback.rules.js';
import type { PlaybackState, QueueItem } from './playback.js';

const now = new Date('2026-05-01T12:00:00Z');
const item = (id: string, durationMs = 200_000, position = 1024): QueueItem => ({
  id,
  trackId: `track-${id}`,
  durationMs,
  position,
  addedAt: now,
});
const playing = (current: QueueItem | undefined, positionMs: number, recordedCurrent = false): PlaybackState => ({
  deviceId: 'phone',
  currentItem: current,
  positionMs,
  isPlaying: true,
  playbackRate: 1,
  updatedAt: now,
  version: 4,
  recordedCurrent,
});
const report = (deviceId: string, positionMs: number, isPlaying = true, extra: Partial<ProgressReport> = {}): ProgressReport => ({
  deviceId,
  positionMs,
  isPlaying,
  playbackRate: 1,
  takeOver: false,
  ...extra,
});

function reasonOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof DomainError) return error.reason;
    throw error;
  }
  return undefined;
}

describe('play vs skip threshold', () => {
  it('counts 30 s or more as a play, less as not', () => {
    expect(countsAsPlay(29_999, 200_000)).toBe(false);
    expect(countsAsPlay(30_000, 200_000)).toBe(true);
  });

  it('counts a track shorter than 30 s as played once it reaches its end', () => {
    expect(countsAsPlay(19_999, 20_000)).toBe(false);
    expect(countsAsPlay(20_000, 20_000)).toBe(true);
  });

  it('records a skip when leaving an item before the threshold, a play after it, nothing when already recorded', () => {
    const a = item('a');
    expect(eventOnLeaving(playing(a, 12_000))).toEqual({ item: a, kind: 'skip', playedMs: 12_000 });
    expect(eventOnLeaving(playing(a, 45_000))).toEqual({ item: a, kind: 'play', playedMs: 45_000 });
    expect(eventOnLeaving(playing(item('short', 10_000), 10_000))?.kind).toBe('play');
    expect(eventOnLeaving(playing(a, 45_000, true))).toBeUndefined();
    expect(eventOnLeaving(playing(undefined, 0))).toBeUndefined();
    expect(eventOnLeaving(undefined)).toBeUndefined();
  });
});

describe('next-item selection', () => {
  it('takes the following item, the first one when nothing is current yet', () => {
    const [a, b] = [item('a', 1, 1024), item('b', 1, 2048)];
    expect(nextItem(undefined, a, 'off', a)).toBe(a);
    expect(nextItem(a, b, 'off', a)).toBe(b);
  });

  it('fails with NO_NEXT_TRACK after the last item and QUEUE_EMPTY on an empty queue', () => {
    expect(reasonOf(() => nextItem(item('last'), undefined, 'off', item('first')))).toBe('NO_NEXT_TRACK');
    expect(reasonOf(() => nextItem(undefined, undefined, 'context', undefined))).toBe('QUEUE_EMPTY');
  });

  it('wraps to the first item after the last under repeat context, and back from the first to the last', () => {
    const [first, last] = [item('first', 1, 1024), item('last', 1, 2048)];
    expect(nextItem(last, undefined, 'context', first)).toBe(first);
    expect(previousItem(first, undefined, 'context', last)).toBe(last);
    // Under repeat track a skip moves on (only a track that ended replays), wrapping too.
    expect(nextItem(last, undefined, 'track', first)).toBe(first);
    expect(reasonOf(() => previousItem(first, undefined, 'off', last))).toBe('NO_PREVIOUS_TRACK');
    expect(reasonOf(() => previousItem(undefined, undefined, 'off', last))).toBe('NO_PREVIOUS_TRACK');
    expect(reasonOf(() => previousItem(undefined, undefined, 'off', undefined))).toBe('QUEUE_EMPTY');
    expect(previousItem(last, first, 'off', last)).toBe(first);
  });

  it('starts the next item from 0, playing, on the skipping device, with nothing recorded yet', () => {
    const b = item('b');
    const state = startItem(playing(item('a'), 50_000, true), b, 'laptop', now);
    expect(state).toEqual({
      deviceId: 'laptop',
      currentItem: b,
      positionMs: 0,
      isPlaying: true,
      playbackRate: 1,
      updatedAt: now,
      version: 5,
      recordedCurrent: false,
    });
    expect(startItem(undefined, b, 'laptop', now).version).toBe(1);
  });

  it('moves playback to the following item when the current one is removed, or stops', () => {
    const b = item('b');
    expect(replaceRemovedItem(playing(item('a'), 40_000, true), b, now)).toMatchObject({
      currentItem: b,
      positionMs: 0,
      isPlaying: true,
      recordedCurrent: false,
      version: 5,
    });
    expect(replaceRemovedItem(playing(item('a'), 40_000), undefined, now)).toMatchObject({ currentItem: undefined, isPlaying: false });
  });
});

describe('progress reports', () => {
  const a = item('a', 200_000);

  it('records a play the first time the position reaches the threshold, and only then', () => {
    const early = applyProgress(playing(a, 0), a, report('phone', 29_000, true), now);
    expect(early.recordPlay).toBe(false);
    const reached = applyProgress(early.state, a, report('phone', 31_000, true), now);
    expect(reached.recordPlay).toBe(true);
    expect(reached.state.recordedCurrent).toBe(true);
    const later = applyProgress(reached.state, a, report('phone', 90_000, true), now);
    expect(later.recordPlay).toBe(false);
    // Seeking back does not make a second play either.
    const back = applyProgress(later.state, a, report('phone', 1_000, true), now);
    const again = applyProgress(back.state, a, report('phone', 40_000, true), now);
    expect(again.recordPlay).toBe(false);
  });

  it('makes the reporting device the active one and bumps the version', () => {
    const { state } = applyProgress(playing(a, 5_000), a, report('speaker', 6_000, false), now);
    expect(state).toMatchObject({ deviceId: 'speaker', positionMs: 6_000, isPlaying: false, version: 5, currentItem: a });
  });

  it('rejects a position past the end of the track', () => {
    const past = report('phone', 200_001);
    expect(reasonOf(() => applyProgress(playing(a, 0), a, past, now))).toBe('POSITION_OUT_OF_RANGE');
    expect(applyProgress(playing(a, 0), a, { ...past, positionMs: 200_000 }, now).recordPlay).toBe(true);
  });
});

describe('the heartbeat conflict rule', () => {
  const a = item('a', 200_000);

  it('ignores a report not newer than the newest accepted one from the same device', () => {
    const state = playing(a, 10_000);
    expect(ignoredReason(state, report('phone', 5_000, true, { clientTimestamp: 99 }), 100)).toBe('STALE_REPORT');
    expect(ignoredReason(state, report('phone', 5_000, true, { clientTimestamp: 100 }), 100)).toBe('STALE_REPORT');
    expect(ignoredReason(state, report('phone', 5_000, true, { clientTimestamp: 101 }), 100)).toBeUndefined();
    // Without a timestamp on either side, the report counts as the newest.
    expect(ignoredReason(state, report('phone', 5_000), 100)).toBeUndefined();
    expect(ignoredReason(state, report('phone', 5_000, true, { clientTimestamp: 1 }), null)).toBeUndefined();
  });

  it('ignores another device unless it takes over, or nothing has played yet', () => {
    expect(ignoredReason(playing(a, 0), report('laptop', 1_000), null)).toBe('NOT_ACTIVE_DEVICE');
    expect(ignoredReason(playing(a, 0), report('laptop', 1_000, true, { takeOver: true }), null)).toBeUndefined();
    expect(ignoredReason(undefined, report('laptop', 1_000), null)).toBeUndefined();
  });
});

describe('extrapolation and transfer', () => {
  const a = item('a', 200_000);
  const later = (ms: number) => new Date(now.getTime() + ms);

  it('advances a playing position by the elapsed time at the playback rate, capped at the end; a paused one stays', () => {
    expect(extrapolatedPosition(playing(a, 10_000), later(5_000))).toBe(15_000);
    expect(extrapolatedPosition({ ...playing(a, 10_000), playbackRate: 1.5 }, later(4_000))).toBe(16_000);
    expect(extrapolatedPosition(playing(a, 190_000), later(60_000))).toBe(200_000);
    expect(extrapolatedPosition({ ...playing(a, 10_000), isPlaying: false }, later(60_000))).toBe(10_000);
  });

  it('moves playback to the new device at the extrapolated position, keeping or setting play/pause', () => {
    const moved = transferTo(playing(a, 10_000), 'laptop', undefined, later(7_000));
    expect(moved).toMatchObject({
      deviceId: 'laptop',
      positionMs: 17_000,
      isPlaying: true,
      updatedAt: later(7_000),
      version: 5,
      currentItem: a,
    });
    expect(transferTo(playing(a, 10_000), 'laptop', false, later(1_000))).toMatchObject({ isPlaying: false, positionMs: 11_000 });
  });
});

describe('guards', () => {
  it('checks the expected version only when one is given', () => {
    expect(reasonOf(() => assertVersion(3, undefined))).toBeUndefined();
    expect(reasonOf(() => assertVersion(3, 3))).toBeUndefined();
    expect(() => assertVersion(3, 2)).toThrow(/version 3/);
    expect(reasonOf(() => assertVersion(3, 2))).toBe('VERSION_MISMATCH');
  });

  it('names missing and non-current items', () => {
    expect(reasonOf(() => requireItem(undefined, 'x'))).toBe('QUEUE_ITEM_NOT_FOUND');
    expect(reasonOf(() => assertCurrent('a', item('b')))).toBe('NOT_CURRENT_ITEM');
    expect(reasonOf(() => assertCurrent(null, item('b')))).toBe('NOT_CURRENT_ITEM');
    expect(reasonOf(() => assertCurrent('b', item('b')))).toBeUndefined();
  });
});
