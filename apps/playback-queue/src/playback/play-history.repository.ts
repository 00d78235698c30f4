import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { PlayEvent, PlayedItem, PlayKind } from './playback.js';

interface PlayedRow {
  id: string;
  track_id: string;
  queue_item_id: string;
  kind: PlayKind;
  played_ms: number;
  occurred_at: Date;
}

@Injectable()
export class PlayHistoryRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async insert(em: EntityManager, event: PlayEvent): Promise<void> {
    await em.query(
      `INSERT INTO play_history (id, user_id, track_id, queue_item_id, kind, played_ms, occurred_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [event.eventId, event.userId, event.trackId, event.queueItemId, event.kind, event.playedMs, event.occurredAt],
    );
  }

  /**
   * Up to `limit` entries, newest first, strictly older than the entry `afterId` (from the start
   * when undefined); undefined when `afterId` is not one of the user's entries.
   */
  async listRecent(userId: string, options: { limit: number; afterId?: string; includeSkips: boolean }): Promise<PlayedItem[] | undefined> {
    if (options.afterId !== undefined) {
      const anchor: unknown[] = await this.db.query('SELECT 1 FROM play_history WHERE user_id = $1 AND id = $2', [userId, options.afterId]);
      if (anchor.length === 0) return undefined;
    }
    const rows: PlayedRow[] = await this.db.query(
      `SELECT id, track_id, queue_item_id, kind, played_ms, occurred_at FROM play_history
       WHERE user_id = $1 AND ($3 OR kind = 'play')
         AND ($2::uuid IS NULL OR (occurred_at, id) < (SELECT occurred_at, id FROM play_history WHERE id = $2::uuid))
       ORDER BY occurred_at DESC, id DESC
       LIMIT $4`,
      [userId, options.afterId ?? null, options.includeSkips, options.limit],
    );
    return rows.map((row) => ({
      id: row.id,
      trackId: row.track_id,
      queueItemId: row.queue_item_id,
      kind: row.kind,
      playedMs: row.played_ms,
      occurredAt: row.occurred_at,
    }));
  }
}
