/** One entry of a user's queue; the same track may appear in several. */
export interface QueueItem {
  /** The stable queue_item_id. */
  id: string;
  trackId: string;
  durationMs: number;
  /** Sort key of the play order. */
  position: number;
  addedAt: Date;
}

export type RepeatMode = 'off' | 'track' | 'context';

/** The queue row: which item is current, the play modes, and the version every change increments. */
export interface QueueHead {
  currentItemId: string | null;
  version: number;
  shuffle: boolean;
  repeat: RepeatMode;
}

export interface Queue extends QueueHead {
  /** In play order, the current one included. */
  items: QueueItem[];
}

export interface PlaybackState {
  /** The device playing, or last playing: the one that reported or skipped last. */
  deviceId: string;
  /** Undefined when the current item was removed and nothing followed it. */
  currentItem: QueueItem | undefined;
  positionMs: number;
  isPlaying: boolean;
  /** 1 is normal speed. */
  playbackRate: number;
  updatedAt: Date;
  version: number;
  /** Whether a play or skip event was already recorded for the current item. */
  recordedCurrent: boolean;
}

export type PlayKind = 'play' | 'skip';

/** A listen worth telling recommendation about, written to play_history and the outbox together. */
export interface PlayEvent {
  eventId: string;
  userId: string;
  trackId: string;
  queueItemId: string;
  kind: PlayKind;
  playedMs: number;
  occurredAt: Date;
}

/** A device that has used the player, as the devices list shows it. */
export interface Device {
  deviceId: string;
  lastSeenAt: Date;
}

/** One entry of recently played. */
export interface PlayedItem {
  id: string;
  trackId: string;
  queueItemId: string;
  kind: PlayKind;
  playedMs: number;
  occurredAt: Date;
}
