import { DomainError } from '@overture/grpc';
import { describe, expect, it } from 'vitest';
import {
  applyProgress,
  assertCurrent,
  assertVersion,
  countsAsPlay,
  eventOnLeaving,
  nextItem,
  replaceRemovedItem,
  requireItem,
  startItem,
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
  updatedAt: now,
  version: 4,
  recordedCurrent,
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
    expect(nextItem(undefined, a)).toBe(a);
    expect(nextItem(a, b)).toBe(b);
  });

  it('fails with NO_NEXT_TRACK after the last item and QUEUE_EMPTY on an empty queue', () => {
    expect(reasonOf(() => nextItem(item('last'), undefined))).toBe('NO_NEXT_TRACK');
    expect(reasonOf(() => nextItem(undefined, undefined))).toBe('QUEUE_EMPTY');
  });

  it('starts the next item from 0, playing, on the skipping device, with nothing recorded yet', () => {
    const b = item('b');
    const state = startItem(playing(item('a'), 50_000, true), b, 'laptop', now);
    expect(state).toEqual({
      deviceId: 'laptop',
      currentItem: b,
      positionMs: 0,
      isPlaying: true,
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
    const early = applyProgress(playing(a, 0), a, { deviceId: 'phone', positionMs: 29_000, isPlaying: true }, now);
    expect(early.recordPlay).toBe(false);
    const reached = applyProgress(early.state, a, { deviceId: 'phone', positionMs: 31_000, isPlaying: true }, now);
    expect(reached.recordPlay).toBe(true);
    expect(reached.state.recordedCurrent).toBe(true);
    const later = applyProgress(reached.state, a, { deviceId: 'phone', positionMs: 90_000, isPlaying: true }, now);
    expect(later.recordPlay).toBe(false);
    // Seeking back does not make a second play either.
    const back = applyProgress(later.state, a, { deviceId: 'phone', positionMs: 1_000, isPlaying: true }, now);
    const again = applyProgress(back.state, a, { deviceId: 'phone', positionMs: 40_000, isPlaying: true }, now);
    expect(again.recordPlay).toBe(false);
  });

  it('makes the reporting device the active one and bumps the version', () => {
    const { state } = applyProgress(playing(a, 5_000), a, { deviceId: 'speaker', positionMs: 6_000, isPlaying: false }, now);
    expect(state).toMatchObject({ deviceId: 'speaker', positionMs: 6_000, isPlaying: false, version: 5, currentItem: a });
  });

  it('rejects a position past the end of the track', () => {
    const report = { deviceId: 'phone', positionMs: 200_001, isPlaying: true };
    expect(reasonOf(() => applyProgress(playing(a, 0), a, report, now))).toBe('POSITION_OUT_OF_RANGE');
    expect(applyProgress(playing(a, 0), a, { ...report, positionMs: 200_000 }, now).recordPlay).toBe(true);
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
