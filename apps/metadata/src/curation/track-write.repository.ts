import { Inject, Injectable } from '@nestjs/common';
import type { KeyedWrite } from '@overture/idempotency';
import { MetadataReason } from '@overture/contracts';
import { DataSource, type EntityManager } from 'typeorm';
import { CHANGE_FEED_LOCK } from '../catalogue/change-feed.lock.js';
import type { TrackInput } from '../catalogue/track-input.schema.js';
import { nameKey } from '../catalogue/name-key.js';
import { sourceHash } from '../catalogue/source-hash.js';
import { ADD_PAIR_COUNTS_SQL, PairCounter, PAIRED_AMONG_SQL } from '../catalogue/term-pairs.js';
import { trackTerms } from '../catalogue/track-terms.js';
import { TRACK_CACHE_CHANNEL } from '../catalogue/track-cache.channel.js';
import { TRACK_COLUMNS, toTrack, type TrackRow } from '../tracks/track.repository.js';
import type { Track } from '../tracks/track.js';

/** A write's result; a refused one names the reason the client will be told. */
export type WriteOutcome<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      reason: typeof MetadataReason.TRACK_NOT_FOUND | typeof MetadataReason.VERSION_CONFLICT | typeof MetadataReason.ISRC_TAKEN;
      version?: number;
    };

/** What a track's postings are made of. */
interface Indexed {
  id: string;
  doc: number;
  popularity: number;
  bpm: number | null;
  release_year: number;
  term_ids: number[];
}

const INDEXED = 'id, doc, popularity, bpm, release_year, term_ids';

/**
 * Single-track writes for curators. Each runs in one transaction that also keeps the postings, the
 * maintained term counts and the change feed in step, and NOTIFYs replicas' caches at commit.
 */
// A curator's idempotency key is claimed first in a write's transaction and its answer stored last,
// only on success: a refused write stores nothing, so its retry is judged afresh.
async function recorded<T>(em: EntityManager, keyed: KeyedWrite<T> | undefined, value: T): Promise<WriteOutcome<T>> {
  await keyed?.record(em, value);
  return { ok: true, value };
}

@Injectable()
export class TrackWriteRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async create(input: TrackInput, keyed?: KeyedWrite<Track>): Promise<WriteOutcome<Track>> {
    return this.db.transaction(async (em) => {
      await keyed?.claim(em);
      const taken: unknown[] = await em.query('SELECT 1 FROM tracks WHERE isrc = $1', [input.isrc]);
      if (taken.length) return { ok: false, reason: MetadataReason.ISRC_TAKEN };
      const values = await this.values(em, input);
      const rows: Indexed[] = await em.query(
        `INSERT INTO tracks (isrc, title, artist_name, album_title, duration_ms, release_year, release_date, popularity, explicit,
           attributes, artist_id, album_id, regions, tier, audio_ref, term_ids, source_hash)
         VALUES ($1, $2, $3, $4, $5, extract(year FROM $6::date)::smallint, $6::date, $7, $8, $9::jsonb, $10, $11, $12::text[], $13, $14, $15::int[], $16)
         ON CONFLICT (isrc) DO NOTHING
         RETURNING ${INDEXED}`,
        values,
      );
      const created = rows[0];
      if (!created) return { ok: false, reason: MetadataReason.ISRC_TAKEN };
      await this.reindex(em, undefined, created);
      await this.recordChange(em, created.id, 'created', 1);
      return recorded(em, keyed, await this.read(em, created.id));
    });
  }

  async update(id: string, expectedVersion: number, input: TrackInput, keyed?: KeyedWrite<Track>): Promise<WriteOutcome<Track>> {
    return this.db.transaction(async (em) => {
      await keyed?.claim(em);
      const current: (Indexed & { version: number })[] = await em.query(`SELECT ${INDEXED}, version FROM tracks WHERE id = $1 FOR UPDATE`, [
        id,
      ]);
      const old = current[0];
      if (!old) return { ok: false, reason: MetadataReason.TRACK_NOT_FOUND };
      if (old.version !== expectedVersion) return { ok: false, reason: MetadataReason.VERSION_CONFLICT, version: old.version };
      const other: unknown[] = await em.query('SELECT 1 FROM tracks WHERE isrc = $1 AND id <> $2', [input.isrc, id]);
      if (other.length) return { ok: false, reason: MetadataReason.ISRC_TAKEN };
      const values = await this.values(em, input);
      // TypeORM answers an UPDATE with [rows, affected count].
      const [rows]: [(Indexed & { version: number })[], number] = await em.query(
        `UPDATE tracks SET isrc = $1, title = $2, artist_name = $3, album_title = $4, duration_ms = $5,
           release_year = extract(year FROM $6::date)::smallint, release_date = $6::date, popularity = $7, explicit = $8,
           attributes = $9::jsonb, artist_id = $10, album_id = $11, regions = $12::text[], tier = $13, audio_ref = $14,
           term_ids = $15::int[], source_hash = $16, version = version + 1, updated_at = now()
         WHERE id = $17 RETURNING ${INDEXED}, version`,
        [...values, id],
      );
      const [updated] = rows;
      if (!updated) return { ok: false, reason: MetadataReason.TRACK_NOT_FOUND };
      await this.reindex(em, old, updated);
      await this.recordChange(em, id, 'updated', updated.version);
      return recorded(em, keyed, await this.read(em, id));
    });
  }

  async delete(id: string, expectedVersion: number, keyed?: KeyedWrite<undefined>): Promise<WriteOutcome<undefined>> {
    return this.db.transaction(async (em) => {
      await keyed?.claim(em);
      const current: (Indexed & { version: number })[] = await em.query(`SELECT ${INDEXED}, version FROM tracks WHERE id = $1 FOR UPDATE`, [
        id,
      ]);
      const old = current[0];
      if (!old) return { ok: false, reason: MetadataReason.TRACK_NOT_FOUND };
      if (expectedVersion !== 0 && old.version !== expectedVersion)
        return { ok: false, reason: MetadataReason.VERSION_CONFLICT, version: old.version };
      await em.query('DELETE FROM tracks WHERE id = $1', [id]);
      await this.reindex(em, old, undefined);
      await this.recordChange(em, id, 'deleted', old.version + 1);
      return recorded(em, keyed, undefined);
    });
  }

  private async read(em: EntityManager, id: string): Promise<Track> {
    const [row]: TrackRow[] = await em.query(`SELECT ${TRACK_COLUMNS} FROM tracks t WHERE t.id = $1`, [id]);
    if (!row) throw new Error(`track ${id} vanished inside its own write transaction`);
    return toTrack(row);
  }

  /** The column values of a track ($1..$16 of the insert and update), creating artist, album and terms as needed. */
  private async values(em: EntityManager, t: TrackInput): Promise<unknown[]> {
    const [{ id: artistId }]: [{ id: string }] = await em.query(
      `INSERT INTO artists (name, name_key) VALUES ($1, $2) ON CONFLICT (name_key) DO UPDATE SET name_key = EXCLUDED.name_key RETURNING id`,
      [t.artist_name, nameKey(t.artist_name)],
    );
    const [{ id: albumId }]: [{ id: string }] = await em.query(
      `INSERT INTO albums (artist_id, title, title_key, release_date) VALUES ($1, $2, $3, $4::date)
       ON CONFLICT (artist_id, title_key) DO UPDATE SET title_key = EXCLUDED.title_key RETURNING id`,
      [artistId, t.album_title, nameKey(t.album_title), t.release_date],
    );
    const terms: { id: number }[] = await em.query(
      `INSERT INTO catalogue_terms (term) SELECT unnest($1::text[]) ORDER BY 1 ON CONFLICT (term) DO UPDATE SET term = EXCLUDED.term RETURNING id`,
      [trackTerms(t)],
    );
    return [
      t.isrc,
      t.title,
      t.artist_name,
      t.album_title,
      t.duration_ms,
      t.release_date,
      t.popularity,
      t.explicit,
      JSON.stringify(t.attributes),
      artistId,
      albumId,
      t.regions,
      t.tier,
      t.audio_ref,
      terms.map((r) => r.id),
      sourceHash(t),
    ];
  }

  /** Moves a track's postings, the term counts and the term pair counts from its old terms to its new ones. */
  private async reindex(em: EntityManager, old: Indexed | undefined, next: Indexed | undefined): Promise<void> {
    if (old) {
      await em.query('DELETE FROM track_postings WHERE term_id = ANY($1::int[]) AND popularity = $2 AND doc = $3', [
        old.term_ids,
        old.popularity,
        old.doc,
      ]);
    }
    if (next) {
      // The bits are computed from the row just written (catalogue/term-bits.ts).
      await em.query(
        `INSERT INTO track_postings (term_id, popularity, doc, bpm, year, bits)
         SELECT unnest($1::int[]), $2, $3, $4, $5, (SELECT catalogue_track_bits(attributes, explicit) FROM tracks WHERE doc = $3)`,
        [next.term_ids, next.popularity, next.doc, next.bpm, next.release_year],
      );
    }
    await em.query(
      `UPDATE catalogue_terms c SET track_count = c.track_count + d.delta
       FROM (SELECT term_id, sum(delta)::bigint AS delta FROM (
               SELECT unnest($1::int[]) AS term_id, 1 AS delta UNION ALL SELECT unnest($2::int[]), -1) x GROUP BY term_id) d
       WHERE c.id = d.term_id AND d.delta <> 0`,
      [next?.term_ids ?? [], old?.term_ids ?? []],
    );
    const rows: { id: number }[] = await em.query(PAIRED_AMONG_SQL, [[...(old?.term_ids ?? []), ...(next?.term_ids ?? [])]]);
    const paired = new Set(rows.map((r) => r.id));
    const pairs = new PairCounter();
    if (old)
      pairs.add(
        old.term_ids.filter((id) => paired.has(id)),
        -1,
      );
    if (next) pairs.add(next.term_ids.filter((id) => paired.has(id)));
    if (!pairs.empty) await em.query(ADD_PAIR_COUNTS_SQL, pairs.rows());
  }

  private async recordChange(em: EntityManager, id: string, kind: 'created' | 'updated' | 'deleted', version: number): Promise<void> {
    await em.query('SELECT pg_advisory_xact_lock($1)', [CHANGE_FEED_LOCK]);
    await em.query('INSERT INTO track_changes (track_id, kind, version) VALUES ($1, $2, $3)', [id, kind, version]);
    await em.query('SELECT pg_notify($1, $2)', [TRACK_CACHE_CHANNEL, id]);
  }
}
