import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { QueueHead, QueueItem, RepeatMode } from './playback.js';

interface HeadRow {
  current_item_id: string | null;
  version: string;
  shuffle: boolean;
  repeat: RepeatMode;
}

interface ItemRow {
  id: string;
  track_id: string;
  duration_ms: number;
  position: string;
  added_at: Date;
}

export interface NewTrack {
  trackId: string;
  durationMs: number;
}

const HEAD_COLUMNS = 'current_item_id, version, shuffle, repeat';
const ITEM_COLUMNS = 'id, track_id, duration_ms, position, added_at';

// Items are placed this far apart. Inserting shifts the following items by whole steps in one
// UPDATE (the unique position constraint is deferrable, so it is checked at the end of it).
const POSITION_STEP = 1024;

/**
 * Queues and their items. Methods taking an EntityManager run inside the caller's transaction;
 * the others read outside any. Positions are always positive, so 0 stands for "before every item".
 */
@Injectable()
export class QueueRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** Locks the user's queue row until the transaction ends, creating an empty queue (version 0) first if needed. */
  async lock(em: EntityManager, userId: string): Promise<QueueHead> {
    const select = `SELECT ${HEAD_COLUMNS} FROM queues WHERE user_id = $1 FOR UPDATE`;
    let rows: HeadRow[] = await em.query(select, [userId]);
    if (rows.length === 0) {
      await em.query('INSERT INTO queues (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING', [userId]);
      rows = await em.query(select, [userId]);
    }
    return toHead(only(rows));
  }

  async findHead(userId: string, em: EntityManager = this.db.manager): Promise<QueueHead | undefined> {
    const rows: HeadRow[] = await em.query(`SELECT ${HEAD_COLUMNS} FROM queues WHERE user_id = $1`, [userId]);
    return rows[0] && toHead(rows[0]);
  }

  /** The user's items in play order. */
  async listItems(userId: string, em: EntityManager = this.db.manager): Promise<QueueItem[]> {
    const rows: ItemRow[] = await em.query(`SELECT ${ITEM_COLUMNS} FROM queue_items WHERE user_id = $1 ORDER BY position`, [userId]);
    return rows.map(toItem);
  }

  /** One of the user's items; undefined for an unknown id and for another user's item alike. */
  async findItem(em: EntityManager, userId: string, itemId: string): Promise<QueueItem | undefined> {
    const rows: ItemRow[] = await em.query(`SELECT ${ITEM_COLUMNS} FROM queue_items WHERE user_id = $1 AND id = $2`, [userId, itemId]);
    return rows[0] && toItem(rows[0]);
  }

  /** Those of `itemIds` that are the user's items. */
  async findItems(em: EntityManager, userId: string, itemIds: readonly string[]): Promise<QueueItem[]> {
    const rows: ItemRow[] = await em.query(`SELECT ${ITEM_COLUMNS} FROM queue_items WHERE user_id = $1 AND id = ANY($2::uuid[])`, [
      userId,
      itemIds,
    ]);
    return rows.map(toItem);
  }

  /** The user's first item after `position` in play order, skipping `except`; the very first item when `position` is null. */
  async itemAfter(
    em: EntityManager,
    userId: string,
    position: number | null,
    except: readonly string[] = [],
  ): Promise<QueueItem | undefined> {
    const rows: ItemRow[] = await em.query(
      `SELECT ${ITEM_COLUMNS} FROM queue_items
       WHERE user_id = $1 AND ($2::bigint IS NULL OR position > $2::bigint) AND id <> ALL($3::uuid[])
       ORDER BY position LIMIT 1`,
      [userId, position, except],
    );
    return rows[0] && toItem(rows[0]);
  }

  /** The user's last item before `position` in play order; the very last item when `position` is null. */
  async itemBefore(em: EntityManager, userId: string, position: number | null): Promise<QueueItem | undefined> {
    const rows: ItemRow[] = await em.query(
      `SELECT ${ITEM_COLUMNS} FROM queue_items
       WHERE user_id = $1 AND ($2::bigint IS NULL OR position < $2::bigint)
       ORDER BY position DESC LIMIT 1`,
      [userId, position],
    );
    return rows[0] && toItem(rows[0]);
  }

  async countItems(em: EntityManager, userId: string): Promise<number> {
    const rows: { count: number }[] = await em.query('SELECT count(*)::int AS count FROM queue_items WHERE user_id = $1', [userId]);
    return rows[0]?.count ?? 0;
  }

  /** Adds tracks after the user's last item, in the order given; while shuffled, also last in the original order. */
  async append(em: EntityManager, userId: string, tracks: readonly NewTrack[], shuffled: boolean): Promise<void> {
    await em.query(
      `INSERT INTO queue_items (user_id, track_id, duration_ms, position, original_position)
       SELECT $1, t.track_id, t.duration_ms,
              COALESCE((SELECT max(position) FROM queue_items WHERE user_id = $1), 0) + t.ord * $4,
              CASE WHEN $5 THEN COALESCE((SELECT max(original_position) FROM queue_items WHERE user_id = $1), 0) + t.ord * $4 END
       FROM unnest($2::uuid[], $3::int[]) WITH ORDINALITY AS t (track_id, duration_ms, ord)`,
      [userId, tracks.map((t) => t.trackId), tracks.map((t) => t.durationMs), POSITION_STEP, shuffled],
    );
  }

  /**
   * Inserts tracks, in the order given, right after play position `after` (0: before every item).
   * While shuffled, `originalAfter` places them in the original order too.
   */
  async insertAfter(
    em: EntityManager,
    userId: string,
    after: number,
    tracks: readonly NewTrack[],
    originalAfter: number | null,
  ): Promise<void> {
    const room = (tracks.length + 1) * POSITION_STEP;
    await em.query('UPDATE queue_items SET position = position + $3 WHERE user_id = $1 AND position > $2', [userId, after, room]);
    if (originalAfter !== null) {
      await em.query('UPDATE queue_items SET original_position = original_position + $3 WHERE user_id = $1 AND original_position > $2', [
        userId,
        originalAfter,
        room,
      ]);
    }
    await em.query(
      `INSERT INTO queue_items (user_id, track_id, duration_ms, position, original_position)
       SELECT $1, t.track_id, t.duration_ms, $4::bigint + t.ord * $5, $6::bigint + t.ord * $5
       FROM unnest($2::uuid[], $3::int[]) WITH ORDINALITY AS t (track_id, duration_ms, ord)`,
      [userId, tracks.map((t) => t.trackId), tracks.map((t) => t.durationMs), after, POSITION_STEP, originalAfter],
    );
  }

  /** The original-order position of an item while shuffled (null when not shuffled). */
  async originalPosition(em: EntityManager, userId: string, itemId: string): Promise<number | null> {
    const rows: { original_position: string | null }[] = await em.query(
      'SELECT original_position FROM queue_items WHERE user_id = $1 AND id = $2',
      [userId, itemId],
    );
    const value = rows[0]?.original_position;
    return value === null || value === undefined ? null : Number(value);
  }

  /** Puts an item right before play position `before`, or after the last item when `before` is null. */
  async moveItem(em: EntityManager, userId: string, itemId: string, before: number | null): Promise<void> {
    if (before === null) {
      await em.query(
        `UPDATE queue_items SET position = (SELECT max(position) FROM queue_items WHERE user_id = $1) + $3
         WHERE user_id = $1 AND id = $2`,
        [userId, itemId, POSITION_STEP],
      );
      return;
    }
    // Makes room by shifting `before` and everything after it one step, then takes its old place.
    await em.query('UPDATE queue_items SET position = position + $3 WHERE user_id = $1 AND position >= $2', [
      userId,
      before,
      POSITION_STEP,
    ]);
    await em.query('UPDATE queue_items SET position = $3 WHERE user_id = $1 AND id = $2', [userId, itemId, before]);
  }

  async deleteItems(em: EntityManager, userId: string, itemIds: readonly string[]): Promise<void> {
    await em.query('DELETE FROM queue_items WHERE user_id = $1 AND id = ANY($2::uuid[])', [userId, itemIds]);
  }

  /** Deletes every item after play position `after`; every item when it is null. */
  async deleteAfter(em: EntityManager, userId: string, after: number | null): Promise<void> {
    await em.query('DELETE FROM queue_items WHERE user_id = $1 AND ($2::bigint IS NULL OR position > $2::bigint)', [userId, after]);
  }

  /**
   * Remembers the play order as the original one, then deals the positions of the items after
   * play position `after` (every item when null) out again in random order.
   */
  async shuffle(em: EntityManager, userId: string, after: number | null): Promise<void> {
    await em.query('UPDATE queue_items SET original_position = position WHERE user_id = $1', [userId]);
    await em.query(
      `WITH upcoming AS (
         SELECT id, position FROM queue_items WHERE user_id = $1 AND ($2::bigint IS NULL OR position > $2::bigint)
       ),
       dealt AS (SELECT id, row_number() OVER (ORDER BY random()) AS n FROM upcoming),
       slots AS (SELECT position, row_number() OVER (ORDER BY position) AS n FROM upcoming)
       UPDATE queue_items q SET position = slots.position
       FROM dealt JOIN slots USING (n)
       WHERE q.id = dealt.id`,
      [userId, after],
    );
  }

  /** Restores the original order (items added while shuffled keep the place they were given in it). */
  async unshuffle(em: EntityManager, userId: string): Promise<void> {
    await em.query(
      `WITH ordered AS (
         SELECT id, row_number() OVER (ORDER BY original_position NULLS LAST, position) * $2 AS position
         FROM queue_items WHERE user_id = $1
       )
       UPDATE queue_items q SET position = ordered.position, original_position = NULL
       FROM ordered WHERE q.id = ordered.id`,
      [userId, POSITION_STEP],
    );
  }

  /** Points the queue at another current item without counting a change (the caller saves the head after). */
  async setCurrent(em: EntityManager, userId: string, currentItemId: string | null): Promise<void> {
    await em.query('UPDATE queues SET current_item_id = $2 WHERE user_id = $1', [userId, currentItemId]);
  }

  /** Records a change to the queue: saves the head and increments the version, which it returns. */
  async saveHead(em: EntityManager, userId: string, head: Omit<QueueHead, 'version'>): Promise<number> {
    // TypeORM answers an UPDATE with [rows, affected count].
    const [rows]: [{ version: string }[], number] = await em.query(
      `UPDATE queues SET current_item_id = $2, shuffle = $3, repeat = $4, version = version + 1
       WHERE user_id = $1 RETURNING version`,
      [userId, head.currentItemId, head.shuffle, head.repeat],
    );
    return Number(only(rows).version);
  }
}

// For statements that return exactly one row once the queue row exists, as it does under `lock`.
function only<T>(rows: T[]): T {
  const [row] = rows;
  if (rows.length !== 1 || row === undefined) throw new Error(`expected one queue row, got ${rows.length}`);
  return row;
}

function toHead(row: HeadRow): QueueHead {
  return { currentItemId: row.current_item_id, version: Number(row.version), shuffle: row.shuffle, repeat: row.repeat };
}

function toItem(row: ItemRow): QueueItem {
  return {
    id: row.id,
    trackId: row.track_id,
    durationMs: row.duration_ms,
    position: Number(row.position),
    addedAt: row.added_at,
  };
}
