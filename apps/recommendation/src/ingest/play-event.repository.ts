import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import type { PlayEvent } from './play-event.js';
import type { CoPlayDelta, PlayCountDelta, TrackStatsDelta } from './play-statistics.js';

// PostgreSQL's deadlock_detected and serialization_failure: the transaction was rolled back as a
// whole and may simply run again.
const RETRYABLE_CODES = new Set(['40P01', '40001']);
const TRANSACTION_ATTEMPTS = 3;

// Every multi-row write below goes in key order, so concurrent transactions lock rows in the same
// order; the retry covers what ordering cannot (e.g. two tables touched in one transaction).
@Injectable()
export class PlayEventRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** Runs `work` in one transaction, again if PostgreSQL aborted it for a deadlock. */
  async transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.db.transaction(work);
      } catch (error) {
        if (attempt >= TRANSACTION_ATTEMPTS || !RETRYABLE_CODES.has(sqlStateOf(error))) throw error;
      }
    }
  }

  /** Stores the events whose id is new; returns those ids. */
  async insertNew(tx: EntityManager, events: readonly PlayEvent[]): Promise<Set<string>> {
    if (events.length === 0) return new Set();
    const rows = events.map((e) => ({
      event_id: e.eventId,
      user_id: e.userId,
      track_id: e.trackId,
      kind: e.kind,
      played_ms: e.playedMs,
      occurred_at: e.occurredAt.toISOString(),
    }));
    const inserted: { event_id: string }[] = await tx.query(
      `INSERT INTO play_events (event_id, user_id, track_id, kind, played_ms, occurred_at)
       SELECT r.event_id, r.user_id, r.track_id, r.kind, r.played_ms, r.occurred_at
       FROM jsonb_to_recordset($1::jsonb)
         AS r(event_id uuid, user_id uuid, track_id uuid, kind text, played_ms int, occurred_at timestamptz)
       ORDER BY r.event_id
       ON CONFLICT (event_id) DO NOTHING
       RETURNING event_id`,
      [JSON.stringify(rows)],
    );
    return new Set(inserted.map((row) => row.event_id));
  }

  /** Each user's `perUser` most recently played distinct tracks, most recent first. */
  async recentPlays(tx: EntityManager, userIds: readonly string[], perUser: number): Promise<Map<string, string[]>> {
    const recent = new Map<string, string[]>();
    if (userIds.length === 0) return recent;
    const rows: { user_id: string; track_id: string }[] = await tx.query(
      `SELECT u.user_id, s.track_id
       FROM unnest($1::uuid[]) AS u(user_id)
       CROSS JOIN LATERAL (
         SELECT track_id, last_played_at FROM user_track_stats
         WHERE user_id = u.user_id AND last_played_at IS NOT NULL
         ORDER BY last_played_at DESC, track_id
         LIMIT $2
       ) AS s
       ORDER BY u.user_id, s.last_played_at DESC, s.track_id`,
      [[...new Set(userIds)], perUser],
    );
    for (const row of rows) recent.set(row.user_id, [...(recent.get(row.user_id) ?? []), row.track_id]);
    return recent;
  }

  async addTrackStats(tx: EntityManager, deltas: readonly TrackStatsDelta[]): Promise<void> {
    if (deltas.length === 0) return;
    const rows = deltas.map((d) => ({
      user_id: d.userId,
      track_id: d.trackId,
      plays: d.plays,
      skips: d.skips,
      last_played_at: d.lastPlayedAt?.toISOString() ?? null,
      last_event_at: d.lastEventAt.toISOString(),
    }));
    await tx.query(
      `INSERT INTO user_track_stats AS s (user_id, track_id, plays, skips, last_played_at, last_event_at)
       SELECT r.user_id, r.track_id, r.plays, r.skips, r.last_played_at, r.last_event_at
       FROM jsonb_to_recordset($1::jsonb)
         AS r(user_id uuid, track_id uuid, plays int, skips int, last_played_at timestamptz, last_event_at timestamptz)
       ORDER BY r.user_id, r.track_id
       ON CONFLICT (user_id, track_id) DO UPDATE SET
         plays = s.plays + EXCLUDED.plays,
         skips = s.skips + EXCLUDED.skips,
         -- GREATEST ignores NULLs: a batch of skips keeps the last play.
         last_played_at = GREATEST(s.last_played_at, EXCLUDED.last_played_at),
         last_event_at = GREATEST(s.last_event_at, EXCLUDED.last_event_at)`,
      [JSON.stringify(rows)],
    );
  }

  async addCoPlays(tx: EntityManager, deltas: readonly CoPlayDelta[]): Promise<void> {
    if (deltas.length === 0) return;
    await tx.query(
      `INSERT INTO co_plays AS c (track_a, track_b, count)
       SELECT r.a, r.b, r.n FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS r(a, b, n)
       ORDER BY r.a, r.b
       ON CONFLICT (track_a, track_b) DO UPDATE SET count = c.count + EXCLUDED.count`,
      [deltas.map((d) => d.trackA), deltas.map((d) => d.trackB), deltas.map((d) => d.count)],
    );
  }

  async addPlays(tx: EntityManager, deltas: readonly PlayCountDelta[]): Promise<void> {
    if (deltas.length === 0) return;
    await tx.query(
      `INSERT INTO track_popularity AS p (track_id, plays)
       SELECT r.track_id, r.plays FROM unnest($1::uuid[], $2::int[]) AS r(track_id, plays)
       ORDER BY r.track_id
       ON CONFLICT (track_id) DO UPDATE SET plays = p.plays + EXCLUDED.plays`,
      [deltas.map((d) => d.trackId), deltas.map((d) => d.plays)],
    );
  }
}

/** The SQLSTATE of a failed query (TypeORM's QueryFailedError carries the driver's error). */
function sqlStateOf(error: unknown): string {
  if (typeof error !== 'object' || error === null) return '';
  const { code, driverError } = error as { code?: unknown; driverError?: { code?: unknown } };
  const state = typeof code === 'string' ? code : driverError?.code;
  return typeof state === 'string' ? state : '';
}
