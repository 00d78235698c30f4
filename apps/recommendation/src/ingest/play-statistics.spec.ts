import { describe, expect, it } from 'vitest';
import type { PlayEvent, PlayEventKind } from './play-event.js';
import { aggregateTrackStats, countCoPlays, countPlaysPerTrack } from './play-statistics.js';

let seq = 0;
const event = (userId: string, trackId: string, minute: number, kind: PlayEventKind = 'play'): PlayEvent => ({
  eventId: `e${++seq}`,
  userId,
  trackId,
  kind,
  playedMs: 60_000,
  occurredAt: new Date(Date.UTC(2025, 10, 20, 10, minute)),
});

const pairs = (deltas: ReturnType<typeof countCoPlays>): Record<string, number> =>
  Object.fromEntries(deltas.map((d) => [`${d.trackA}>${d.trackB}`, d.count]));

describe('co-play counting', () => {
  it('pairs each play with the recent history and the earlier plays of the batch, both ways round', () => {
    const result = pairs(countCoPlays([event('u', 'c', 2), event('u', 'b', 1)], new Map([['u', ['a']]]), 20));
    expect(result).toEqual({ 'b>a': 1, 'a>b': 1, 'c>b': 1, 'b>c': 1, 'c>a': 1, 'a>c': 1 });
  });

  it('limits a play to the window of most recent distinct other tracks, never pairing a track with itself', () => {
    const result = pairs(countCoPlays([event('u', 'a', 1)], new Map([['u', ['a', 'x', 'y', 'z']]]), 2));
    expect(result).toEqual({ 'a>x': 1, 'x>a': 1, 'a>y': 1, 'y>a': 1 });
  });

  it('keeps users apart and leaves skips out', () => {
    const result = pairs(
      countCoPlays([event('u', 'a', 1), event('v', 'b', 2), event('u', 'c', 3, 'skip'), event('u', 'd', 4)], new Map(), 20),
    );
    expect(result).toEqual({ 'd>a': 1, 'a>d': 1 });
  });
});

describe('track statistics', () => {
  it('counts plays and skips per user and track, keeping the latest times', () => {
    const stats = aggregateTrackStats([event('u', 'a', 5), event('u', 'a', 1), event('u', 'a', 9, 'skip'), event('u', 'b', 3, 'skip')]);
    expect(stats).toEqual([
      {
        userId: 'u',
        trackId: 'a',
        plays: 2,
        skips: 1,
        lastPlayedAt: new Date(Date.UTC(2025, 10, 20, 10, 5)),
        lastEventAt: new Date(Date.UTC(2025, 10, 20, 10, 9)),
      },
      { userId: 'u', trackId: 'b', plays: 0, skips: 1, lastPlayedAt: null, lastEventAt: new Date(Date.UTC(2025, 10, 20, 10, 3)) },
    ]);
    expect(countPlaysPerTrack([event('u', 'a', 1), event('v', 'a', 2), event('v', 'b', 3, 'skip')])).toEqual([{ trackId: 'a', plays: 2 }]);
  });
});
