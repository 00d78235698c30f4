import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { PlaybackState } from './playback.js';

interface StateColumns {
  device_id: string;
  position_ms: number;
  is_playing: boolean;
  playback_rate: number;
  updated_at: Date;
  version: string;
  recorded_current: boolean;
}

// The LEFT JOINed item's columns: all set, or all null when nothing is current.
type ItemColumns =
  | { item_id: string; track_id: string; duration_ms: number; position: string; added_at: Date }
  | { item_id: null; track_id: null; duration_ms: null; position: null; added_at: null };

type StateRow = StateColumns & ItemColumns;

/** Playback state, one row per user who has ever played, with its current queue item joined in. */
@Injectable()
export class PlaybackStateRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async find(userId: string, em: EntityManager = this.db.manager): Promise<PlaybackState | undefined> {
    const rows: StateRow[] = await em.query(
      `SELECT s.device_id, s.position_ms, s.is_playing, s.playback_rate, s.updated_at, s.version, s.recorded_current,
              i.id AS item_id, i.track_id, i.duration_ms, i.position, i.added_at
       FROM playback_states s LEFT JOIN queue_items i ON i.id = s.current_item_id
       WHERE s.user_id = $1`,
      [userId],
    );
    return rows[0] && toState(rows[0]);
  }

  async save(em: EntityManager, userId: string, state: PlaybackState): Promise<void> {
    await em.query(
      `INSERT INTO playback_states
         (user_id, device_id, current_item_id, position_ms, is_playing, updated_at, version, recorded_current, playback_rate)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (user_id) DO UPDATE SET
         device_id = EXCLUDED.device_id, current_item_id = EXCLUDED.current_item_id,
         position_ms = EXCLUDED.position_ms, is_playing = EXCLUDED.is_playing, updated_at = EXCLUDED.updated_at,
         version = EXCLUDED.version, recorded_current = EXCLUDED.recorded_current, playback_rate = EXCLUDED.playback_rate`,
      [
        userId,
        state.deviceId,
        state.currentItem?.id ?? null,
        state.positionMs,
        state.isPlaying,
        state.updatedAt,
        state.version,
        state.recordedCurrent,
        state.playbackRate,
      ],
    );
  }
}

function toState(row: StateRow): PlaybackState {
  return {
    deviceId: row.device_id,
    currentItem:
      row.item_id === null
        ? undefined
        : {
            id: row.item_id,
            trackId: row.track_id,
            durationMs: row.duration_ms,
            position: Number(row.position),
            addedAt: row.added_at,
          },
    positionMs: row.position_ms,
    isPlaying: row.is_playing,
    playbackRate: row.playback_rate,
    updatedAt: row.updated_at,
    version: Number(row.version),
    recordedCurrent: row.recorded_current,
  };
}
