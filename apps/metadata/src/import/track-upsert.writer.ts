import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientBase } from 'pg';
import copyStreams from 'pg-copy-streams';
import { CHANGE_FEED_LOCK } from '../catalogue/change-feed.lock.js';
import { sourceHash } from '../catalogue/source-hash.js';
import { ADD_PAIR_COUNTS_SQL, isPairedTerm, PairCounter, PAIRED_AMONG_SQL } from '../catalogue/term-pairs.js';
import { TRACK_CACHE_CHANNEL } from '../catalogue/track-cache.channel.js';
import { trackTerms } from '../catalogue/track-terms.js';
import type { BulkResult, BulkRow } from './bulk-row.js';
import type { CatalogueIdCache } from './catalogue-id.cache.js';
import { CopyData, STAGING_COLUMNS, trackColumns } from './copy-text.encoder.js';
import { saveCheckpoint, type ImportCheckpoint } from './import-checkpoint.js';

/**
 * Writes tracks in batches, upserting by ISRC: one COPY into a temporary staging table, then set-based
 * SQL in one transaction that updates tracks, their postings, the maintained term counts and the
 * change feed. A row whose content is unchanged (same hash) is left alone, so a rerun is cheap and
 * writes nothing. Term, artist and album ids come from the
 * id caches, which find or create the ones they lack.
 */
export class TrackUpsertWriter {
  private prepared = false;

  constructor(
    private readonly client: ClientBase,
    private readonly ids: CatalogueIdCache,
  ) {}

  /**
   * Writes one batch atomically, with `checkpoint` (source, line) committed in the same transaction.
   * When the batch as a whole fails, each row is retried alone so one bad row never sinks the others.
   */
  async write(rows: readonly BulkRow[], checkpoint?: ImportCheckpoint): Promise<BulkResult> {
    // Last occurrence of an ISRC in a batch wins, as it would across batches.
    const byIsrc = new Map<string, BulkRow>();
    for (const row of rows) byIsrc.set(row.track.isrc, row);
    const unique = [...byIsrc.values()];
    try {
      return await this.writeBatch(unique, checkpoint);
    } catch (error) {
      if (unique.length <= 1) {
        if (checkpoint) await saveCheckpoint(this.client, checkpoint);
        return {
          created: 0,
          updated: 0,
          unchanged: 0,
          rejected: unique.map((r) => ({ line: r.line, reason: `database: ${(error as Error).message}` })),
        };
      }
      const total: BulkResult = { created: 0, updated: 0, unchanged: 0, rejected: [] };
      for (const row of unique) {
        const one = await this.write([row]);
        total.created += one.created;
        total.updated += one.updated;
        total.unchanged += one.unchanged;
        total.rejected.push(...one.rejected);
      }
      if (checkpoint) await saveCheckpoint(this.client, checkpoint);
      return total;
    }
  }

  private async writeBatch(rows: readonly BulkRow[], checkpoint?: ImportCheckpoint): Promise<BulkResult> {
    await this.prepare();
    this.ids.trim();
    const hashes = rows.map((r) => sourceHash(r.track));
    await this.client.query('BEGIN');
    try {
      // Every statement below joins one batch (≤ batch size rows) to the whole catalogue, and should
      // probe its indexes per row. Left free, the planner chooses a hash or merge join that reads all
      // of tracks for every batch, whatever the statistics of the staging table.
      await this.client.query('SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off');
      // Rows whose ISRC is new or whose content hash changed; the others (all of them on a rerun) need
      // no terms, ids or staging.
      const changed = await this.client.query<{ i: string }>(
        `SELECT s.i FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS s (isrc, hash, i)
         WHERE NOT EXISTS (SELECT 1 FROM tracks t WHERE t.isrc = s.isrc AND t.source_hash = s.hash)`,
        [rows.map((r) => r.track.isrc), hashes],
      );
      let result = { created: 0, updated: 0 };
      if (changed.rows.length > 0) {
        const prepared = changed.rows.map(({ i }) => {
          const row = rows[Number(i) - 1] as BulkRow;
          return { row, hash: hashes[Number(i) - 1] as string, terms: trackTerms(row.track) };
        });
        await this.ids.resolveTerms(prepared.flatMap((p) => p.terms));
        await this.ids.resolveArtists(prepared.map((p) => p.row.track));
        await this.ids.resolveAlbums(prepared.map((p) => p.row.track));
        const lines = new CopyData();
        for (const {
          row: { track: t },
          hash,
          terms,
        } of prepared) {
          lines.add(`${trackColumns(t, this.ids.idsOf(t), terms.map((term) => this.ids.terms.get(term)).join(','), hash)}\n`);
        }
        await pipeline(
          Readable.from(lines.done()),
          this.client.query(copyStreams.from(`COPY import_staging (${STAGING_COLUMNS}) FROM STDIN`)),
        );
        result = await this.applyStaging(new Map(prepared.map((p) => [p.row.track.isrc, p.terms])));
      }
      if (checkpoint) await saveCheckpoint(this.client, checkpoint);
      await this.client.query('COMMIT');
      return { ...result, unchanged: rows.length - result.created - result.updated, rejected: [] };
    } catch (error) {
      await this.client.query('ROLLBACK');
      throw error;
    }
  }

  private async applyStaging(termsByIsrc: ReadonlyMap<string, string[]>): Promise<{ created: number; updated: number }> {
    const c = this.client;
    const old = await c.query(`
      INSERT INTO import_old (doc, popularity, term_ids)
      SELECT t.doc, t.popularity, t.term_ids FROM import_staging s JOIN tracks t ON t.isrc = s.isrc
      WHERE t.source_hash IS DISTINCT FROM s.source_hash`);
    const replacing = (old.rowCount ?? 0) > 0;
    await c.query(`
      WITH up AS (
        INSERT INTO tracks (isrc, title, artist_name, album_title, duration_ms, release_year, release_date, popularity, explicit,
          attributes, artist_id, album_id, regions, tier, audio_ref, term_ids, source_hash)
        SELECT isrc, title, artist_name, album_title, duration_ms, extract(year FROM release_date)::smallint, release_date, popularity,
          explicit, attributes, artist_id, album_id, regions, tier, audio_ref, term_ids, source_hash
        -- Only new and changed rows were staged (writeBatch): ON CONFLICT locks every conflicting row,
        -- even one its WHERE then skips, and a lock writes the tuple's xmax, so staging unchanged rows
        -- would dirty (and WAL-log) every page of tracks on a rerun.
        FROM import_staging s
        ON CONFLICT (isrc) DO UPDATE SET
          title = EXCLUDED.title, artist_name = EXCLUDED.artist_name, album_title = EXCLUDED.album_title,
          duration_ms = EXCLUDED.duration_ms, release_year = EXCLUDED.release_year, release_date = EXCLUDED.release_date,
          popularity = EXCLUDED.popularity, explicit = EXCLUDED.explicit, attributes = EXCLUDED.attributes,
          artist_id = EXCLUDED.artist_id, album_id = EXCLUDED.album_id, regions = EXCLUDED.regions, tier = EXCLUDED.tier,
          audio_ref = EXCLUDED.audio_ref, term_ids = EXCLUDED.term_ids, source_hash = EXCLUDED.source_hash,
          version = tracks.version + 1, updated_at = now()
        WHERE tracks.source_hash IS DISTINCT FROM EXCLUDED.source_hash
        RETURNING id, doc, isrc, popularity, term_ids, bpm, release_year, catalogue_track_bits(attributes, explicit) AS bits, version, (xmax = 0) AS created
      )
      INSERT INTO import_new (id, doc, isrc, popularity, term_ids, bpm, year, bits, version, created)
      SELECT id, doc, isrc, popularity, term_ids, bpm, release_year, bits, version, created FROM up`);
    if (replacing) {
      // Temporary tables have no statistics until analysed; without them the planner may hash-join
      // the whole postings table instead of probing its index once per old posting.
      await c.query('ANALYZE import_old');
      await c.query(`
        DELETE FROM track_postings p USING (SELECT doc, popularity, unnest(term_ids) AS term_id FROM import_old) o
        WHERE p.term_id = o.term_id AND p.popularity = o.popularity AND p.doc = o.doc`);
    }
    // Sorted like the index, so consecutive inserts land on the same leaf pages.
    await c.query(`
      INSERT INTO track_postings (term_id, popularity, doc, bpm, year, bits)
      SELECT unnest(term_ids) AS term_id, popularity, doc, bpm, year, bits FROM import_new ORDER BY 1, 2, 3`);
    // Term counts: +1 for each term of each written row (counted here, cheaper than unnesting in SQL),
    // -1 for each term of the rows they replaced.
    // Pair counts likewise: +1 for each pair of paired terms of each written row, -1 for those replaced.
    const written = await c.query<{ isrc: string }>('SELECT isrc FROM import_new');
    const delta = new Map<number, number>();
    const pairs = new PairCounter();
    for (const { isrc } of written.rows) {
      const paired: number[] = [];
      for (const term of termsByIsrc.get(isrc) ?? []) {
        const id = this.ids.terms.get(term) as number;
        delta.set(id, (delta.get(id) ?? 0) + 1);
        if (isPairedTerm(term)) paired.push(id);
      }
      pairs.add(paired);
    }
    if (replacing) {
      const removed = await c.query<{ term_ids: number[] }>('SELECT term_ids FROM import_old');
      const ids = [...new Set(removed.rows.flatMap((r) => r.term_ids))];
      const pairedIds = new Set((await c.query<{ id: number }>(PAIRED_AMONG_SQL, [ids])).rows.map((r) => r.id));
      for (const { term_ids } of removed.rows) {
        for (const id of term_ids) delta.set(id, (delta.get(id) ?? 0) - 1);
        pairs.add(
          term_ids.filter((id) => pairedIds.has(id)),
          -1,
        );
      }
    }
    const changed = [...delta].filter(([, n]) => n !== 0).sort((a, b) => a[0] - b[0]);
    if (changed.length) {
      await c.query(
        `UPDATE catalogue_terms c SET track_count = c.track_count + d.delta FROM unnest($1::int[], $2::bigint[]) AS d(id, delta) WHERE c.id = d.id`,
        [changed.map(([id]) => id), changed.map(([, n]) => n)],
      );
    }
    if (!pairs.empty) await c.query(ADD_PAIR_COUNTS_SQL, pairs.rows());
    // Same lock as single-track writes: change-feed sequence numbers then commit in order.
    await c.query('SELECT pg_advisory_xact_lock($1)', [CHANGE_FEED_LOCK]);
    await c.query(`
      INSERT INTO track_changes (track_id, kind, version)
      SELECT id, CASE WHEN created THEN 'created' ELSE 'updated' END, version FROM import_new`);
    const counts = await c.query<{ created: number; updated: number }>(
      'SELECT count(*) FILTER (WHERE created)::int AS created, count(*) FILTER (WHERE NOT created)::int AS updated FROM import_new',
    );
    const { created, updated } = counts.rows[0] ?? { created: 0, updated: 0 };
    // Replicas drop cached copies of tracks this batch changed, and their cached term dictionary
    // (new terms, moved counts); delivered at commit.
    if (created + updated > 0) await c.query('SELECT pg_notify($1, $2)', [TRACK_CACHE_CHANNEL, '*']);
    return { created, updated };
  }

  private async prepare(): Promise<void> {
    if (this.prepared) return;
    await this.client.query(`
      CREATE TEMP TABLE IF NOT EXISTS import_staging (
        isrc text, title text, artist_name text, album_title text, duration_ms integer, release_date date, popularity smallint,
        explicit boolean, attributes jsonb, artist_id uuid, album_id uuid, regions text[], tier text, audio_ref text,
        term_ids integer[], source_hash text
      ) ON COMMIT DELETE ROWS`);
    await this.client.query(
      'CREATE TEMP TABLE IF NOT EXISTS import_old (doc integer, popularity smallint, term_ids integer[]) ON COMMIT DELETE ROWS',
    );
    await this.client.query(
      `CREATE TEMP TABLE IF NOT EXISTS import_new (id uuid, doc integer, isrc text, popularity smallint, term_ids integer[], bpm smallint, year smallint, bits bigint,
         version integer, created boolean) ON COMMIT DELETE ROWS`,
    );
    this.prepared = true;
  }
}
