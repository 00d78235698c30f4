import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { QueueHead, QueueItem } from './playback.js';

interface HeadRow {
  current_item_id: string | null;
  version: string;
}

interface ItemRow {
  id: string;
  track_id: string;
  duration_ms: number;
  position: string;
  added_at: Date;
}

const ITEM_COLUMNS = 'id, track_id, duration_ms, position, added_at';

// Appended items are this far apart, leaving room to insert between neighbours without renumbering.
const POSITION_STEP = 1024;

/**
 * Queues and their items. Methods taking an EntityManager run inside the caller's transaction;
 * the others read outside any.
 */
@Injectable()
export class QueueRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** Locks the user's queue row until the transaction ends, creating an empty queue (version 0) first if needed. */
  async lock(em: EntityManager, userId: string): Promise<QueueHead> {
    const select = 'SELECT current_item_id, version FROM queues WHERE user_id = $1 FOR UPDATE';
    let rows: HeadRow[] = await em.query(select, [userId]);
    if (rows.length === 0) {
      await em.query('INSERT INTO queues (user_id) VALUES ($1) ON CONFLICT (user_id) DO NOTHING', [userId]);
      rows = await em.query(select, [userId]);
    }
    return toHead(only(rows));
  }

  async findHead(userId: string, em: EntityManager = this.db.manager): Promise<QueueHead | undefined> {
    const rows: HeadRow[] = await em.query('SELECT current_item_id, version FROM queues WHERE user_id = $1', [userId]);
    return rows[0] && toHead(rows[0]);
  }

  /** The user's items in play order. */
  async listItems(userId: string, em: EntityManager = this.db.manager): Promise<QueueItem[]> {
    const rows: ItemRow[] = await em.query(
      `SELECT ${ITEM_COLUMNS} FROM queue_items WHERE user_id = $1 ORDER BY position`,
      [userId],
    );
    return rows.map(toItem);
  }

  /** One of the user's items; undefined for an unknown id and for another user's item alike. */
  async findItem(em: EntityManager, userId: string, itemId: string): Promise<QueueItem | undefined> {
    const rows: ItemRow[] = await em.query(`SELECT ${ITEM_COLUMNS} FROM queue_items WHERE user_id = $1 AND id = $2`, [userId, itemId]);
    return rows[0] && toItem(rows[0]);
  }

  /** The user's first item after `position` in play order; the very first item when `position` is null. */
  async itemAfter(em: EntityManager, userId: string, position: number | null): Promise<QueueItem | undefined> {
    const rows: ItemRow[] = await em.query(
      `SELECT ${ITEM_COLUMNS} FROM queue_items
       WHERE user_id = $1 AND ($2::bigint IS NULL OR position > $2::bigint)
       ORDER BY position LIMIT 1`,
      [userId, position],
    );
    return rows[0] && toItem(rows[0]);
  }

  async countItems(em: EntityManager, userId: string): Promise<number> {
    const rows: { count: number }[] = await em.query('SELECT count(*)::int AS count FROM queue_items WHERE user_id = $1', [userId]);
    return rows[0]?.count ?? 0;
  }

  /** Adds tracks after the user's last item, in the order given. */
  async append(em: EntityManager, userId: string, tracks: readonly { trackId: string; durationMs: number }[]): Promise<void> {
    await em.query(
      `INSERT INTO queue_items (user_id, track_id, duration_ms, position)
       SELECT $1, t.track_id, t.duration_ms,
              COALESCE((SELECT max(position) FROM queue_items WHERE user_id = $1), 0) + t.ord * $4
       FROM unnest($2::uuid[], $3::int[]) WITH ORDINALITY AS t (track_id, duration_ms, ord)`,
      [userId, tracks.map((t) => t.trackId), tracks.map((t) => t.durationMs), POSITION_STEP],
    );
  }

  async deleteItem(em: EntityManager, userId: string, itemId: string): Promise<void> {
    await em.query('DELETE FROM queue_items WHERE user_id = $1 AND id = $2', [userId, itemId]);
  }

  /** Records a change to the queue: sets the current item and increments the version, which it returns. */
  async saveHead(em: EntityManager, userId: string, currentItemId: string | null): Promise<number> {
    // TypeORM answers an UPDATE with [rows, affected count].
    const [rows]: [{ version: string }[], number] = await em.query(
      'UPDATE queues SET current_item_id = $2, version = version + 1 WHERE user_id = $1 RETURNING version',
      [userId, currentItemId],
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
  return { currentItemId: row.current_item_id, version: Number(row.version) };
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
