import type { PlayEvent } from './play-event.js';

/** How one user's counters for one track change. */
export interface TrackStatsDelta {
  userId: string;
  trackId: string;
  plays: number;
  skips: number;
  /** Latest play among the events; null when they are all skips. */
  lastPlayedAt: Date | null;
  lastEventAt: Date;
}

/** An increment of the co-play count of an ordered pair (stored both ways round). */
export interface CoPlayDelta {
  trackA: string;
  trackB: string;
  count: number;
}

export interface PlayCountDelta {
  trackId: string;
  plays: number;
}

/** Folds events into one counter change per (user, track). */
export function aggregateTrackStats(events: readonly PlayEvent[]): TrackStatsDelta[] {
  const byKey = new Map<string, TrackStatsDelta>();
  for (const event of events) {
    const key = `${event.userId}/${event.trackId}`;
    const delta = byKey.get(key) ?? {
      userId: event.userId,
      trackId: event.trackId,
      plays: 0,
      skips: 0,
      lastPlayedAt: null,
      lastEventAt: event.occurredAt,
    };
    if (event.kind === 'play') {
      delta.plays++;
      if (!delta.lastPlayedAt || event.occurredAt > delta.lastPlayedAt) delta.lastPlayedAt = event.occurredAt;
    } else {
      delta.skips++;
    }
    if (event.occurredAt > delta.lastEventAt) delta.lastEventAt = event.occurredAt;
    byKey.set(key, delta);
  }
  return [...byKey.values()];
}

/**
 * Co-play increments for new plays: each play of track t by user u counts one co-play between t
 * and each of u's `window` most recently played distinct other tracks. `recentByUser` holds each
 * user's stored history (most recent first), taken as earlier than the batch; the batch's own
 * plays join that history in the order they occurred. Skips neither count nor join the history.
 */
export function countCoPlays(
  plays: readonly PlayEvent[],
  recentByUser: ReadonlyMap<string, readonly string[]>,
  window: number,
): CoPlayDelta[] {
  const counts = new Map<string, CoPlayDelta>();
  const add = (trackA: string, trackB: string): void => {
    const key = `${trackA}/${trackB}`;
    const delta = counts.get(key) ?? { trackA, trackB, count: 0 };
    delta.count++;
    counts.set(key, delta);
  };
  const ordered = plays
    .filter((event) => event.kind === 'play')
    .toSorted((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || a.eventId.localeCompare(b.eventId));
  const history = new Map<string, string[]>();
  for (const play of ordered) {
    const recent = history.get(play.userId) ?? [...(recentByUser.get(play.userId) ?? [])];
    const others = recent.filter((trackId) => trackId !== play.trackId);
    for (const partner of others.slice(0, window)) {
      add(play.trackId, partner);
      add(partner, play.trackId);
    }
    history.set(play.userId, [play.trackId, ...others]);
  }
  return [...counts.values()];
}

/** Plays per track, for the popularity counters. */
export function countPlaysPerTrack(events: readonly PlayEvent[]): PlayCountDelta[] {
  const counts = new Map<string, number>();
  for (const event of events) if (event.kind === 'play') counts.set(event.trackId, (counts.get(event.trackId) ?? 0) + 1);
  return [...counts].map(([trackId, plays]) => ({ trackId, plays }));
}
