import type { PlaybackState, QueueItem } from '../playback/playback.js';

/** A committed change to a user's queue or playback. */
export type CommittedChange =
  | { kind: 'queue'; userId: string; version: number; change: string; deviceId: string; changedAt?: number }
  | { kind: 'state'; userId: string; version: number; deviceId: string; state: PlaybackState; changedAt?: number };

/** What watchers receive: committed changes, and word about the stream itself. */
export type PlaybackChange =
  | CommittedChange
  /** Changes may have been missed (a watcher or the listener (re)connected): watchers should reload. */
  | { kind: 'resync' }
  /** This replica is shutting down: watchers should move to another one now; this stream ends soon. */
  | { kind: 'draining' };

/** The PostgreSQL NOTIFY channel every replica listens on. */
export const CHANGES_CHANNEL = 'overture_playback_changes';

// The NOTIFY payload (at most 8000 bytes): short keys, dates as ISO strings.
interface Notification {
  k: 'queue' | 'state';
  u: string;
  v: number;
  c?: string;
  d: string;
  s?: StateJson;
  /** When the change was written (epoch ms), for the push delay; absent from older replicas' payloads. */
  t?: number;
}

interface StateJson {
  deviceId: string;
  item: (Omit<QueueItem, 'addedAt'> & { addedAt: string }) | null;
  positionMs: number;
  isPlaying: boolean;
  playbackRate: number;
  updatedAt: string;
  version: number;
  recordedCurrent: boolean;
}

export function encodeChange(change: CommittedChange): string {
  const base = { u: change.userId, v: change.version, d: change.deviceId, t: change.changedAt ?? Date.now() };
  if (change.kind === 'queue') return JSON.stringify({ k: 'queue', c: change.change, ...base } satisfies Notification);
  const { state } = change;
  const item = state.currentItem;
  const s: StateJson = {
    deviceId: state.deviceId,
    item: item ? { ...item, addedAt: item.addedAt.toISOString() } : null,
    positionMs: state.positionMs,
    isPlaying: state.isPlaying,
    playbackRate: state.playbackRate,
    updatedAt: state.updatedAt.toISOString(),
    version: state.version,
    recordedCurrent: state.recordedCurrent,
  };
  return JSON.stringify({ k: 'state', s, ...base } satisfies Notification);
}

/** The change a notification describes; undefined for a payload this version does not understand. */
export function decodeChange(payload: string): CommittedChange | undefined {
  let n: Notification;
  try {
    n = JSON.parse(payload) as Notification;
  } catch {
    return undefined;
  }
  const changedAt = typeof n.t === 'number' ? { changedAt: n.t } : {};
  if (n.k === 'queue') return { kind: 'queue', userId: n.u, version: n.v, change: n.c ?? '', deviceId: n.d, ...changedAt };
  if (n.k === 'state' && n.s) {
    const s = n.s;
    const state: PlaybackState = {
      deviceId: s.deviceId,
      currentItem: s.item ? { ...s.item, addedAt: new Date(s.item.addedAt) } : undefined,
      positionMs: s.positionMs,
      isPlaying: s.isPlaying,
      playbackRate: s.playbackRate,
      updatedAt: new Date(s.updatedAt),
      version: s.version,
      recordedCurrent: s.recordedCurrent,
    };
    return { kind: 'state', userId: n.u, version: n.v, deviceId: n.d, state, ...changedAt };
  }
  return undefined;
}
