import {
  noNextTrack,
  noPreviousTrack,
  notCurrentItem,
  positionOutOfRange,
  queueEmpty,
  queueItemNotFound,
  versionMismatch,
} from '../playback.errors.js';
import type { PlaybackState, PlayKind, QueueItem, RepeatMode } from './playback.js';

/** A listen counts as a play from 30 s on, or at the end of a track shorter than that. */
const PLAY_THRESHOLD_MS = 30_000;

export function countsAsPlay(positionMs: number, durationMs: number): boolean {
  return positionMs >= PLAY_THRESHOLD_MS || positionMs >= durationMs;
}

/** ABORTED unless the queue is at the version the client expects (when it gave one). */
export function assertVersion(current: number, expected: number | undefined): void {
  if (expected !== undefined && expected !== current) {
    throw versionMismatch(current, expected);
  }
}

/** The item asked for; NOT_FOUND alike for an unknown id and for another user's item. */
export function requireItem(item: QueueItem | undefined, itemId: string): QueueItem {
  if (!item) throw queueItemNotFound([itemId]);
  return item;
}

/** FAILED_PRECONDITION unless `item` is the queue's current item. */
export function assertCurrent(currentItemId: string | null, item: QueueItem): void {
  if (currentItemId !== item.id) {
    throw notCurrentItem(item.id);
  }
}

/**
 * The item SkipToNext moves to. `following` is what the queue holds after `current` in play order,
 * or its first item when nothing is current yet; `first` is the queue's first item, where a
 * repeating queue wraps to.
 */
export function nextItem(
  current: QueueItem | undefined,
  following: QueueItem | undefined,
  repeat: RepeatMode,
  first: QueueItem | undefined,
): QueueItem {
  if (following) return following;
  // Repeat track only replays a track that ended; a skip moves on, wrapping like repeat context.
  if (current && repeat !== 'off' && first) return first;
  if (current) throw noNextTrack();
  throw queueEmpty();
}

/** The item SkipToPrevious moves to: the one before `current`, or the last one when repeat wraps. */
export function previousItem(
  current: QueueItem | undefined,
  preceding: QueueItem | undefined,
  repeat: RepeatMode,
  last: QueueItem | undefined,
): QueueItem {
  if (!last) throw queueEmpty();
  if (!current) throw noPreviousTrack('nothing is playing yet');
  if (preceding) return preceding;
  if (repeat !== 'off') return last;
  throw noPreviousTrack();
}

/**
 * The event to record as playback leaves its current item: a play or a skip by the last reported
 * position, or nothing when an event was already recorded for this item.
 */
export function eventOnLeaving(state: PlaybackState | undefined): { item: QueueItem; kind: PlayKind; playedMs: number } | undefined {
  const item = state?.currentItem;
  if (!item || state.recordedCurrent) return undefined;
  const kind = countsAsPlay(state.positionMs, item.durationMs) ? 'play' : 'skip';
  return { item, kind, playedMs: state.positionMs };
}

/** Playback at the start of `item`, playing on `deviceId`. */
export function startItem(previous: PlaybackState | undefined, item: QueueItem, deviceId: string, now: Date): PlaybackState {
  return {
    deviceId,
    currentItem: item,
    positionMs: 0,
    isPlaying: true,
    playbackRate: previous?.playbackRate ?? 1,
    updatedAt: now,
    version: (previous?.version ?? 0) + 1,
    recordedCurrent: false,
  };
}

/** Playback after its current item was removed: the following item from its start, or nothing. */
export function replaceRemovedItem(previous: PlaybackState, following: QueueItem | undefined, now: Date): PlaybackState {
  return {
    ...previous,
    currentItem: following,
    positionMs: 0,
    isPlaying: following ? previous.isPlaying : false,
    updatedAt: now,
    version: previous.version + 1,
    recordedCurrent: false,
  };
}

export interface ProgressReport {
  deviceId: string;
  positionMs: number;
  isPlaying: boolean;
  /** 1 is normal speed. */
  playbackRate: number;
  /** The device's clock or sequence number; reports not newer than the last accepted one are ignored. */
  clientTimestamp?: number;
  /** Whether this device takes playback over from the active one. */
  takeOver: boolean;
}

/** Why a well-formed progress report changed nothing. */
export type IgnoredReason = 'STALE_REPORT' | 'NOT_ACTIVE_DEVICE';

/**
 * The conflict rule for heartbeats: a report older than (or as old as) the newest one accepted from
 * the same device is ignored; a report from a device other than the active one is ignored unless
 * it takes over (or nothing has played yet). Otherwise the report moves the state.
 */
export function ignoredReason(
  state: PlaybackState | undefined,
  report: ProgressReport,
  lastAccepted: number | null,
): IgnoredReason | undefined {
  if (report.clientTimestamp !== undefined && lastAccepted !== null && report.clientTimestamp <= lastAccepted) return 'STALE_REPORT';
  if (state && state.deviceId !== report.deviceId && !report.takeOver) return 'NOT_ACTIVE_DEVICE';
  return undefined;
}

/** Where playback is at `now`: the last position plus the time since, at the playback rate, capped at the track's end. */
export function extrapolatedPosition(state: PlaybackState, now: Date): number {
  const item = state.currentItem;
  if (!item) return 0;
  if (!state.isPlaying) return state.positionMs;
  const elapsed = Math.max(0, now.getTime() - state.updatedAt.getTime());
  return Math.min(item.durationMs, Math.round(state.positionMs + elapsed * state.playbackRate));
}

/** Playback moved to `deviceId` at the extrapolated position, playing if `play` says so (else as it was). */
export function transferTo(state: PlaybackState, deviceId: string, play: boolean | undefined, now: Date): PlaybackState {
  return {
    ...state,
    deviceId,
    positionMs: extrapolatedPosition(state, now),
    isPlaying: state.currentItem ? (play ?? state.isPlaying) : false,
    updatedAt: now,
    version: state.version + 1,
  };
}

/**
 * Applies an accepted heartbeat (see `ignoredReason`) for the current item `item`; the reporting
 * device is, or becomes, the active one. `recordPlay` is true for the first report that reaches the play
 * threshold (or the end) for this item, so at most one play is recorded per item played.
 */
export function applyProgress(
  previous: PlaybackState | undefined,
  item: QueueItem,
  report: ProgressReport,
  now: Date,
): { state: PlaybackState; recordPlay: boolean } {
  if (report.positionMs > item.durationMs) {
    throw positionOutOfRange(report.positionMs, item.durationMs);
  }
  const alreadyRecorded = previous?.currentItem?.id === item.id && previous.recordedCurrent;
  const recordPlay = !alreadyRecorded && countsAsPlay(report.positionMs, item.durationMs);
  return {
    state: {
      deviceId: report.deviceId,
      currentItem: item,
      positionMs: report.positionMs,
      isPlaying: report.isPlaying,
      playbackRate: report.playbackRate,
      updatedAt: now,
      version: (previous?.version ?? 0) + 1,
      recordedCurrent: alreadyRecorded || recordPlay,
    },
    recordPlay,
  };
}
