import { Inject, Injectable } from '@nestjs/common';
import { currentTraceparent } from '@overture/tracing';
import { DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import type { PlayEvent } from '../playback/playback.js';
import { toPayload, type PlayEventPayload } from './play-event-payload.js';

export interface OutboxEntry {
  seq: number;
  payload: PlayEventPayload;
  /** W3C trace context of the call that wrote the event, if it was traced. */
  traceparent: string | undefined;
}

/**
 * The relay's hold on the outbox: a connection holding the session-level advisory lock that makes
 * its replica the only one delivering. Queries run on that connection.
 */
export interface OutboxLease {
  /** The oldest undelivered events, in seq order. */
  pending(limit: number): Promise<OutboxEntry[]>;
  markDelivered(seqs: readonly number[]): Promise<void>;
  /** Sets aside an event the receiver refused as invalid: it leaves the pending set, with the reason. */
  markRefused(seq: number, reason: string): Promise<void>;
  /** Deletes up to `limit` delivered events (not refused ones) delivered more than `olderThanMs` ago; returns how many. */
  purgeDelivered(olderThanMs: number, limit: number): Promise<number>;
  /** Gives up the lock and the connection; never fails. */
  release(): Promise<void>;
}

// Any constant works as long as nothing else in this database takes the same advisory lock
// (this one reads "port 50053, lock 1").
const RELAY_LOCK_KEY = 50_053_001;

/** Most undelivered events `backlog` counts: past it the gauge reads this value. */
export const BACKLOG_COUNT_CAP = 1_000_000;

interface EntryRow {
  seq: string;
  payload: PlayEventPayload;
  traceparent: string | null;
}

@Injectable()
export class OutboxRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /**
   * Adds an event inside the caller's transaction, so it commits (or not) with the change that
   * caused it, with the trace context of the call making it.
   */
  async append(em: EntityManager, event: PlayEvent): Promise<void> {
    await em.query('INSERT INTO outbox (event_id, user_id, payload, traceparent) VALUES ($1, $2, $3::jsonb, $4)', [
      event.eventId,
      event.userId,
      JSON.stringify(toPayload(event)),
      currentTraceparent() ?? null,
    ]);
  }

  /**
   * Events not delivered yet (counted up to BACKLOG_COUNT_CAP, so that a huge backlog costs a
   * bounded scan) and the age of the oldest in seconds (0 when none), both from the partial index
   * of undelivered events.
   */
  async backlog(): Promise<{ pending: number; oldestAgeSeconds: number }> {
    const rows: { pending: string; oldest_age: number | null }[] = await this.db.query(
      `SELECT (SELECT count(*) FROM (SELECT 1 FROM outbox WHERE delivered_at IS NULL LIMIT $1) p) AS pending,
              (SELECT extract(epoch FROM now() - created_at)::float8 FROM outbox WHERE delivered_at IS NULL ORDER BY seq LIMIT 1) AS oldest_age`,
      [BACKLOG_COUNT_CAP],
    );
    return { pending: Number(rows[0]?.pending ?? 0), oldestAgeSeconds: Math.max(0, rows[0]?.oldest_age ?? 0) };
  }

  /** Takes the relay lock on a connection of its own; undefined while another session holds it. */
  async tryLead(): Promise<OutboxLease | undefined> {
    const runner = this.db.createQueryRunner();
    try {
      await runner.connect();
      const rows: { locked: boolean }[] = await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [RELAY_LOCK_KEY]);
      if (rows[0]?.locked) return new AdvisoryLockLease(runner);
    } catch (error) {
      await runner.release();
      throw error;
    }
    await runner.release();
    return undefined;
  }
}

class AdvisoryLockLease implements OutboxLease {
  constructor(private readonly runner: QueryRunner) {}

  async pending(limit: number): Promise<OutboxEntry[]> {
    const rows: EntryRow[] = await this.runner.query(
      'SELECT seq, payload, traceparent FROM outbox WHERE delivered_at IS NULL ORDER BY seq LIMIT $1',
      [limit],
    );
    return rows.map((row) => ({ seq: Number(row.seq), payload: row.payload, traceparent: row.traceparent ?? undefined }));
  }

  async markDelivered(seqs: readonly number[]): Promise<void> {
    await this.runner.query('UPDATE outbox SET delivered_at = now() WHERE seq = ANY($1::bigint[])', [seqs]);
  }

  async markRefused(seq: number, reason: string): Promise<void> {
    await this.runner.query('UPDATE outbox SET delivered_at = now(), refused_reason = $2 WHERE seq = $1', [seq, reason]);
  }

  async purgeDelivered(olderThanMs: number, limit: number): Promise<number> {
    // Oldest first by seq (the primary key): delivered events are a prefix of the outbox, give or
    // take the few refused ones kept among them.
    const [, deleted]: [unknown, number] = await this.runner.query(
      `DELETE FROM outbox WHERE seq IN (
         SELECT seq FROM outbox WHERE delivered_at < now() - make_interval(secs => $1 / 1000.0) AND refused_reason IS NULL ORDER BY seq LIMIT $2)`,
      [olderThanMs, limit],
    );
    return deleted;
  }

  async release(): Promise<void> {
    try {
      await this.runner.query('SELECT pg_advisory_unlock($1)', [RELAY_LOCK_KEY]);
    } catch {
      // The connection is broken, and PostgreSQL drops a session's locks with it.
    } finally {
      await this.runner.release();
    }
  }
}
