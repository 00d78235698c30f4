import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { PlayEvent } from './playback.js';

@Injectable()
export class PlayHistoryRepository {
  async insert(em: EntityManager, event: PlayEvent): Promise<void> {
    await em.query(
      `INSERT INTO play_history (id, user_id, track_id, queue_item_id, kind, played_ms, occurred_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [event.eventId, event.userId, event.trackId, event.queueItemId, event.kind, event.playedMs, event.occurredAt],
    );
  }
}
