import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientBase, QueryResultRow } from 'pg';
import copyStreams from 'pg-copy-streams';
import type { TrackInput } from '../catalogue/track-input.schema.js';
import { CHANGE_FEED_LOCK } from '../catalogue/change-feed.lock.js';
import { copyOut, flat } from '../catalogue/copy-out.reader.js';
import { nameKey } from '../catalogue/name-key.js';
import { recountPairs } from '../catalogue/pair-recount.js';
import { sourceHash } from '../catalogue/source-hash.js';
import { ADD_PAIR_COUNTS_SQL, isPairedTerm, PairCounter, PAIRED_AMONG_SQL } from '../catalogue/term-pairs.js';
import { trackBits } from '../catalogue/term-bits.js';
import { TRACK_CACHE_CHANNEL } from '../catalogue/track-cache.channel.js';
import { trackTerms } from '../catalogue/track-terms.js';
import { IsrcSet } from './isrc-set.js';

/** Most ids an id cache of the writer keeps between batches. */
const ID_CACHE_LIMIT = 1_000_000;

export interface BulkRow {
  /** Where the row came from (line number), for reports. */
  line: number;
  track: TrackInput;
}

/** The COPY data of a bulk batch, per table, in the order written. */
interface BulkCopies {
  artists: CopyData;
  albums: CopyData;
  terms: CopyData;
  tracks: CopyData;
  postings: CopyData;
  changes: CopyData;
}

/**
 * A bulk batch being made ready by `prepareAppend`, a chunk of rows at a time: their COPY data. The
 * rows themselves are not kept (held for a whole batch, they outlived the young generation, and the
 * garbage collector copied them again and again); should the batch fail, they are read again from
 * the source.
 */
export interface PreparedAppend {
  /** The source lines the rows came from, first and last. */
  lines: { from: number; to: number };
  /** The writer's epoch when the batch was started; a batch from an older one goes through the upsert. */
  epoch: number;
  /** Rows appended (new ISRCs). */
  created: number;
  /** Rows whose ISRC the catalogue already has: upserted after the batch. */
  again: BulkRow[];
  /** Absent when the batch is to go through the upsert. */
  copies?: BulkCopies;
  /** Tracks per term id among the appended rows: added to the term counts once the batch commits. */
  counts: Map<number, number>;
  /** Tracks per pair of paired terms among the appended rows: added to the pair counts likewise. */
  pairs: PairCounter;
}

/** Reads the rows of source lines `from`…`to` again (the valid ones), for a bulk batch that failed. */
export type RereadRows = (lines: { from: number; to: number }) => Promise<BulkRow[]>;

export interface BulkResult {
  created: number;
  updated: number;
  unchanged: number;
  /** Rows the database refused, with its reason (validation catches almost everything before). */
  rejected: { line: number; reason: string }[];
}

const STAGING_COLUMNS =
  'isrc, title, artist_name, album_title, duration_ms, release_date, popularity, explicit, attributes, artist_id, album_id, regions, tier, audio_ref, term_ids, source_hash';

/**
 * COPY data written straight into 1 MiB buffers, handed to the COPY stream as they are. Building it
 * as strings cost more than everything else the import does in Node: appending made a rope of
 * thousands of small strings per chunk (garbage for the collector), and the stream then flattened
 * and UTF-8-encoded each one (11 µs a track). Numbers are written as digits without a string.
 */
class CopyData {
  private static readonly SIZE = 1 << 20;
  private readonly chunks: Buffer[] = [];
  private buffer = Buffer.allocUnsafe(CopyData.SIZE);
  private at = 0;

  /** Text (any Unicode), already escaped for COPY. */
  add(text: string): void {
    if (this.at + text.length * 3 > this.buffer.length) this.next(text.length * 3);
    this.at += this.buffer.write(text, this.at, 'utf8');
  }

  /** Text known to be ASCII (digits, ISRCs, dates), byte by byte: cheaper than a call into the encoder. */
  addAscii(text: string): void {
    if (this.at + text.length > this.buffer.length) this.next(text.length);
    const buffer = this.buffer;
    let at = this.at;
    for (let i = 0; i < text.length; i++) buffer[at++] = text.charCodeAt(i);
    this.at = at;
  }

  /** Bytes as they are: a short run made once and written many times (the tail all postings of a track share). */
  addBytes(bytes: Uint8Array): void {
    if (this.at + bytes.length > this.buffer.length) this.next(bytes.length);
    this.buffer.set(bytes, this.at);
    this.at += bytes.length;
  }

  /** A non-negative integer below 2^31. */
  addInt(n: number): void {
    if (this.at + 10 > this.buffer.length) this.next(10);
    let digits = 1;
    for (let rest = n; rest >= 10; rest = (rest / 10) | 0) digits++;
    let at = this.at + digits;
    this.at = at;
    do {
      this.buffer[--at] = 48 + (n % 10);
      n = (n / 10) | 0;
    } while (n > 0);
  }

  done(): Buffer[] {
    if (this.at) this.chunks.push(this.buffer.subarray(0, this.at));
    this.at = 0;
    return this.chunks;
  }

  private next(room: number): void {
    if (this.at) this.chunks.push(this.buffer.subarray(0, this.at));
    this.buffer = Buffer.allocUnsafe(Math.max(CopyData.SIZE, room));
    this.at = 0;
  }
}

const ASCII_SCRATCH = Buffer.allocUnsafe(256);

/**
 * `text` (ASCII, under 256 characters) as bytes, in a scratch buffer valid until the next call. The
 * tail of a track's postings is the same for each of its ≈ 19 postings: encoded once and copied
 * instead of written character by character each time (`addAscii`), the import's CPU for 300k
 * rows went from 24.6–27.9 s to 23.3–25.2 s (two alternated pairs of runs).
 */
function asciiBytes(text: string): Uint8Array {
  return ASCII_SCRATCH.subarray(0, ASCII_SCRATCH.write(text, 0, 'latin1'));
}

/** COPY text format: backslash, tab, newline and carriage return escaped. */
function copyText(value: string): string {
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** A track's values for the STAGING_COLUMNS, as one tab-separated COPY text fragment (no line end). */
function trackColumns(t: TrackInput, ids: { artistId: string; albumId: string }, termIds: string, hash: string): string {
  return (
    `${t.isrc}\t${copyText(t.title)}\t${copyText(t.artist_name)}\t${copyText(t.album_title)}\t${t.duration_ms}\t${t.release_date}\t` +
    `${t.popularity}\t${t.explicit ? 't' : 'f'}\t${copyText(JSON.stringify(t.attributes))}\t${ids.artistId}\t${ids.albumId}\t` +
    `{${t.regions.join(',')}}\t${t.tier}\t${copyText(t.audio_ref)}\t{${termIds}}\t${hash}`
  );
}

/**
 * Writes tracks in batches, upserting by ISRC: one COPY into a temporary staging table, then set-based
 * SQL in one transaction that updates tracks, their postings, the maintained term counts and the
 * change feed. A row whose content is unchanged (same hash) is left alone, so a rerun is cheap and
 * writes nothing. Term, artist and album ids are cached in memory across batches.
 */
export class TrackBulkWriter {
  // Id caches, emptied between batches once they pass ID_CACHE_LIMIT (see trimCaches).
  private readonly termIds = new Map<string, number>();
  private readonly artistIds = new Map<string, string>();
  private readonly albumIds = new Map<string, string>();
  private prepared = false;
  /** ISRCs of the catalogue, during a bulk load: those it started with and those it has appended. */
  private readonly appended = new IsrcSet();
  /**
   * During a bulk load (after `startBulkLoad`) the id caches hold every artist, album and term of the
   * catalogue, so a key missing from them is new and the writer makes its id itself. Off again for
   * good once a bulk batch fails: the caches may then hold ids that were never committed.
   */
  private complete = false;
  /** Bumped when a bulk batch fails: batches prepared before that go through the upsert. */
  private epoch = 0;
  /**
   * Tracks per term id among the rows this bulk load appended, and whether that is every row the
   * bulk path wrote (false when the load resumed: the rows the earlier run appended went uncounted).
   */
  private readonly appendedCounts = new Map<number, number>();
  /** The same for term pairs (see catalogue/term-pairs.ts). */
  private readonly appendedPairs = new PairCounter();
  /** During a bulk load: the ids of the catalogue's paired terms. */
  private readonly pairedIds = new Set<number>();
  private countedAll = false;

  /**
   * @param client runs the write transactions.
   * @param lookups creates and reads term, artist and album ids (autocommit statements): by default
   *   the same connection; the import passes a second one so lookups for the next batch need not
   *   wait for the current batch's transaction.
   * @param reread reads a failed bulk batch's rows again (bulk loads only).
   */
  constructor(
    private readonly client: ClientBase,
    private readonly lookups: ClientBase = client,
    private readonly reread?: RereadRows,
  ) {}

  /** Whether `prepareAppend` makes COPY data: from `startBulkLoad` until a bulk batch fails. */
  get bulk(): boolean {
    return this.complete;
  }

  /**
   * Writes one batch atomically, with `checkpoint` (source, line) committed in the same transaction.
   * When the batch as a whole fails, each row is retried alone so one bad row never sinks the others.
   */
  async write(rows: readonly BulkRow[], checkpoint?: { source: string; line: number }): Promise<BulkResult> {
    // Last occurrence of an ISRC in a batch wins, as it would across batches.
    const byIsrc = new Map<string, BulkRow>();
    for (const row of rows) byIsrc.set(row.track.isrc, row);
    const unique = [...byIsrc.values()];
    try {
      return await this.writeBatch(unique, checkpoint);
    } catch (error) {
      if (unique.length <= 1) {
        if (checkpoint) await this.saveCheckpoint(checkpoint);
        return { created: 0, updated: 0, unchanged: 0, rejected: unique.map((r) => ({ line: r.line, reason: `database: ${(error as Error).message}` })) };
      }
      const total: BulkResult = { created: 0, updated: 0, unchanged: 0, rejected: [] };
      for (const row of unique) {
        const one = await this.write([row]);
        total.created += one.created;
        total.updated += one.updated;
        total.unchanged += one.unchanged;
        total.rejected.push(...one.rejected);
      }
      if (checkpoint) await this.saveCheckpoint(checkpoint);
      return total;
    }
  }

  /**
   * Starts a bulk load: reads every artist, album and term id and every ISRC already in the catalogue
   * (what it held before, and what an interrupted load committed when this one resumes it) into the
   * writer, so that `prepareAppend` can tell new keys from known ones without asking the database.
   * @param resumed whether this load finishes an interrupted one, whose appended tracks were never
   *   added to the term and pair counts: then those are recounted at the end instead of added to.
   */
  async startBulkLoad(resumed: boolean): Promise<void> {
    for await (const [id, key] of copyOut(this.lookups, 'COPY (SELECT id, name_key FROM artists) TO STDOUT')) this.artistIds.set(key, id);
    for await (const [id, artistId, key] of copyOut(this.lookups, 'COPY (SELECT id, artist_id, title_key FROM albums) TO STDOUT')) {
      this.albumIds.set(`${artistId}|${key}`, id);
    }
    for await (const [id, term] of copyOut(this.lookups, 'COPY (SELECT id, term FROM catalogue_terms) TO STDOUT')) {
      this.termIds.set(term, Number(id));
      if (isPairedTerm(term)) this.pairedIds.add(Number(id));
    }
    for await (const [isrc] of copyOut(this.lookups, 'COPY (SELECT isrc FROM tracks) TO STDOUT')) this.appended.add(isrc);
    this.complete = true;
    this.countedAll = !resumed;
  }

  /**
   * Bulk-load path for new tracks (a load started by `startBulkLoad`, with the secondary indexes
   * dropped): the writer makes the ids of new tracks, artists, albums and terms itself (UUIDs, and
   * numbers reserved from the tables' sequences), and all of them go in by COPY, with no staging
   * table, no upsert and no lookup. A row whose ISRC the catalogue already has goes through `write`
   * (the upsert) after its batch. Should a batch fail (a curator created the same artist meanwhile,
   * say), it and every later batch go through `write`, which finds or creates ids in the database.
   * Term counts are not updated here: the writer keeps the counts of the rows it appended and the
   * load brings the dictionary up to date at its end (`recountTerms`), instead of updating
   * thousands of dictionary rows per batch.
   *
   * Two steps, so that the import prepares the next batch while the previous one is written:
   * `prepareAppend` does the CPU work (and reserves numbers on the lookup connection), a chunk of
   * rows at a time (`into` the batch being filled); `commitAppend` writes on the main connection.
   */
  async prepareAppend(rows: readonly BulkRow[], into?: PreparedAppend): Promise<PreparedAppend> {
    const epoch = this.epoch;
    const from = rows[0]?.line ?? 0;
    const to = rows.at(-1)?.line ?? 0;
    const batch: PreparedAppend = into ?? {
      lines: { from, to },
      epoch,
      created: 0,
      again: [],
      counts: new Map(),
      pairs: new PairCounter(),
      copies: { artists: new CopyData(), albums: new CopyData(), terms: new CopyData(), tracks: new CopyData(), postings: new CopyData(), changes: new CopyData() },
    };
    batch.lines.to = to;
    // Once a batch has failed, or this one was started before, it goes through the upsert.
    const upsert = (): PreparedAppend => Object.assign(batch, { copies: undefined });
    if (!this.complete || batch.epoch !== epoch || !batch.copies) return upsert();
    const fresh: TrackInput[] = [];
    // Marked at once, not at commit: the next batch may be prepared before this one commits.
    // Should this batch fail, its rows go through the upsert, so they are written either way.
    for (const row of rows) {
      if (this.appended.add(row.track.isrc)) fresh.push(row.track);
      else batch.again.push(row);
    }
    // Each track's term ids (a term the catalogue lacks is -(its index in newTerms + 1) until
    // numbered) and its posting bits (catalogue/term-bits.ts), from the same terms.
    const newTerms = new Map<string, number>();
    const termed = fresh.map((track) => {
      const terms = trackTerms(track);
      const ids = terms.map((term) => {
        const id = this.termIds.get(term);
        if (id !== undefined) return id;
        let index = newTerms.get(term);
        if (index === undefined) newTerms.set(term, (index = newTerms.size));
        return -(index + 1);
      });
      return { ids, bits: trackBits(terms) };
    });
    const docs = await this.reserve('tracks_doc_seq', fresh.length, 'track_doc(nextval($1))');
    const numbers = await this.reserve('catalogue_terms_id_seq', newTerms.size);
    // A batch that failed meanwhile has emptied the caches these ids came from: go through the upsert.
    const copies = batch.copies;
    if (epoch !== this.epoch || !copies) return upsert();
    batch.created += fresh.length;
    const { artists, albums, terms, tracks, postings, changes } = copies;
    const counts = batch.counts;
    let n = 0;
    for (const term of newTerms.keys()) {
      const id = numbers[n++] as number;
      this.termIds.set(flat(term), id);
      if (isPairedTerm(term)) this.pairedIds.add(id);
      terms.add(`${id}\t${copyText(term)}\n`);
    }
    for (let i = 0; i < fresh.length; i++) {
      const t = fresh[i] as TrackInput;
      const doc = docs[i] as number;
      const artistKey = nameKey(t.artist_name);
      let artistId = this.artistIds.get(artistKey);
      if (artistId === undefined) {
        this.artistIds.set(flat(artistKey), (artistId = flat(randomUUID())));
        artists.add(`${artistId}\t${copyText(t.artist_name)}\t${copyText(artistKey)}\n`);
      }
      const titleKey = nameKey(t.album_title);
      const albumKey = `${artistId}|${titleKey}`;
      let albumId = this.albumIds.get(albumKey);
      if (albumId === undefined) {
        this.albumIds.set(flat(albumKey), (albumId = flat(randomUUID())));
        albums.add(`${albumId}\t${artistId}\t${copyText(t.album_title)}\t${copyText(titleKey)}\t${t.release_date}\n`);
      }
      const year = t.release_date.slice(0, 4);
      // The posting is the term id, then the same for each of the track's terms.
      const { ids, bits } = termed[i] as { ids: number[]; bits: string };
      const tail = asciiBytes(`\t${t.popularity}\t${doc}\t${t.attributes.bpm}\t${year}\t${bits}\n`);
      const paired: number[] = [];
      for (let j = 0; j < ids.length; j++) {
        let id = ids[j] as number;
        if (id < 0) ids[j] = id = numbers[-id - 1] as number;
        postings.addInt(id);
        postings.addBytes(tail);
        counts.set(id, (counts.get(id) ?? 0) + 1);
        if (this.pairedIds.has(id)) paired.push(id);
      }
      batch.pairs.add(paired);
      const id = randomUUID();
      changes.addAscii(`${id}\tcreated\t1\n`);
      tracks.add(`${id}\t${doc}\t${year}\t${trackColumns(t, { artistId, albumId }, ids.join(','), sourceHash(t))}\n`);
    }
    return batch;
  }

  async commitAppend(batch: PreparedAppend, checkpoint?: { source: string; line: number }): Promise<BulkResult> {
    if (!batch.copies || batch.epoch !== this.epoch) return this.rewrite(batch, checkpoint);
    let result: BulkResult;
    try {
      result = await this.appendBatch(batch.copies, batch.created, batch.again.length ? undefined : checkpoint);
    } catch {
      this.leaveBulkIds();
      return this.rewrite(batch, checkpoint);
    }
    for (const [id, n] of batch.counts) this.appendedCounts.set(id, (this.appendedCounts.get(id) ?? 0) + n);
    this.appendedPairs.merge(batch.pairs);
    if (batch.again.length === 0) return result;
    const rest = await this.write(batch.again, checkpoint);
    return {
      created: result.created + rest.created,
      updated: result.updated + rest.updated,
      unchanged: result.unchanged + rest.unchanged,
      rejected: [...result.rejected, ...rest.rejected],
    };
  }

  /** A bulk batch through the upsert, its rows read again from the source. */
  private async rewrite(batch: PreparedAppend, checkpoint?: { source: string; line: number }): Promise<BulkResult> {
    if (!this.reread) throw new Error('a failed bulk batch needs its rows read again, and this writer has no reread');
    return this.write(await this.reread(batch.lines), checkpoint);
  }

  /** After a failed bulk batch: the caches may hold ids never committed; forget them, look ids up from now on. */
  private leaveBulkIds(): void {
    this.epoch++;
    this.complete = false;
    for (const cache of [this.termIds, this.artistIds, this.albumIds, this.pairedIds]) cache.clear();
  }

  private async appendBatch(copies: BulkCopies, created: number, checkpoint?: { source: string; line: number }): Promise<BulkResult> {
    const copy = async (sql: string, data: CopyData) => {
      const chunks = data.done();
      if (chunks.length) await pipeline(Readable.from(chunks), this.client.query(copyStreams.from(sql)));
    };
    await this.client.query('BEGIN');
    try {
      await copy('COPY artists (id, name, name_key) FROM STDIN', copies.artists);
      await copy('COPY albums (id, artist_id, title, title_key, release_date) FROM STDIN', copies.albums);
      await copy('COPY catalogue_terms (id, term) FROM STDIN', copies.terms);
      await copy(`COPY tracks (id, doc, release_year, ${STAGING_COLUMNS}) FROM STDIN`, copies.tracks);
      await copy('COPY track_postings (term_id, popularity, doc, bpm, year, bits) FROM STDIN', copies.postings);
      await this.client.query('SELECT pg_advisory_xact_lock($1)', [CHANGE_FEED_LOCK]);
      await copy('COPY track_changes (track_id, kind, version) FROM STDIN', copies.changes);
      if (checkpoint) await this.saveCheckpoint(checkpoint);
      await this.client.query('SELECT pg_notify($1, $2)', [TRACK_CACHE_CHANNEL, '*']);
      await this.client.query('COMMIT');
    } catch (error) {
      await this.client.query('ROLLBACK');
      throw error;
    }
    return { created, updated: 0, unchanged: 0, rejected: [] };
  }

  private async writeBatch(rows: readonly BulkRow[], checkpoint?: { source: string; line: number }): Promise<BulkResult> {
    await this.prepare();
    this.trimCaches();
    const hashes = rows.map((r) => sourceHash(r.track));
    await this.client.query('BEGIN');
    try {
      // Every statement below joins one batch (≤ batch size rows) to the whole catalogue, and should
      // probe its indexes per row. Left free, the planner chose a hash or merge join that read all of
      // tracks for every batch (a 20 000-row batch against 1M tracks: 755 ms instead of ~200 ms; worse
      // the bigger the catalogue), whatever the statistics of the staging table.
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
        await this.resolveTerms(prepared.flatMap((p) => p.terms));
        await this.resolveArtists(prepared.map((p) => p.row.track));
        await this.resolveAlbums(prepared.map((p) => p.row.track));
        const lines = new CopyData();
        for (const { row: { track: t }, hash, terms } of prepared) {
          lines.add(`${trackColumns(t, this.idsOf(t), terms.map((term) => this.termIds.get(term)).join(','), hash)}\n`);
        }
        await pipeline(Readable.from(lines.done()), this.client.query(copyStreams.from(`COPY import_staging (${STAGING_COLUMNS}) FROM STDIN`)));
        result = await this.applyStaging(new Map(prepared.map((p) => [p.row.track.isrc, p.terms])));
      }
      if (checkpoint) await this.saveCheckpoint(checkpoint);
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
        const id = this.termIds.get(term) as number;
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
        pairs.add(term_ids.filter((id) => pairedIds.has(id)), -1);
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

  /**
   * Brings the term and pair counts up to date at the end of a bulk load, which does not maintain
   * them batch by batch. A load that started on an empty catalogue adds the counts it kept of the
   * rows it appended (rows that went through the upsert, and concurrent curator writes, updated the
   * counts themselves); a resumed load sets every count from the postings and the tracks,
   * aggregates over all of them (minutes at 10M tracks).
   */
  async recountTerms(): Promise<void> {
    if (this.countedAll) {
      const counted = [...this.appendedCounts].sort((a, b) => a[0] - b[0]);
      await this.client.query(
        `UPDATE catalogue_terms c SET track_count = c.track_count + d.n FROM unnest($1::int[], $2::bigint[]) AS d (id, n) WHERE c.id = d.id`,
        [counted.map(([id]) => id), counted.map(([, n]) => n)],
      );
      if (!this.appendedPairs.empty) await this.client.query(ADD_PAIR_COUNTS_SQL, this.appendedPairs.rows());
      return;
    }
    await this.client.query('BEGIN');
    await recountPairs(this.client);
    await this.client.query('COMMIT');
    await this.client.query(`
      UPDATE catalogue_terms c SET track_count = coalesce(x.n, 0)
      FROM catalogue_terms c2 LEFT JOIN (SELECT term_id, count(*) AS n FROM track_postings GROUP BY term_id) x ON x.term_id = c2.id
      WHERE c.id = c2.id AND c.track_count IS DISTINCT FROM coalesce(x.n, 0)`);
  }

  private async saveCheckpoint(checkpoint: { source: string; line: number }): Promise<void> {
    await this.client.query(
      `INSERT INTO import_checkpoints (source, line) VALUES ($1, $2)
       ON CONFLICT (source) DO UPDATE SET line = EXCLUDED.line, updated_at = now()`,
      [checkpoint.source, checkpoint.line],
    );
  }

  private async prepare(): Promise<void> {
    if (this.prepared) return;
    await this.client.query(`
      CREATE TEMP TABLE IF NOT EXISTS import_staging (
        isrc text, title text, artist_name text, album_title text, duration_ms integer, release_date date, popularity smallint,
        explicit boolean, attributes jsonb, artist_id uuid, album_id uuid, regions text[], tier text, audio_ref text,
        term_ids integer[], source_hash text
      ) ON COMMIT DELETE ROWS`);
    await this.client.query('CREATE TEMP TABLE IF NOT EXISTS import_old (doc integer, popularity smallint, term_ids integer[]) ON COMMIT DELETE ROWS');
    await this.client.query(
      `CREATE TEMP TABLE IF NOT EXISTS import_new (id uuid, doc integer, isrc text, popularity smallint, term_ids integer[], bpm smallint, year smallint, bits bigint,
         version integer, created boolean) ON COMMIT DELETE ROWS`,
    );
    this.prepared = true;
  }

  /**
   * Empties an id cache that has passed ID_CACHE_LIMIT, between batches only (a batch reads the ids it
   * resolved). Unbounded, the caches grew with the catalogue: at 10M tracks the import held ~3 GB of
   * live heap, and every major garbage collection marked all of it.
   */
  private trimCaches(): void {
    if (this.complete) return;
    for (const cache of [this.termIds, this.artistIds, this.albumIds]) if (cache.size > ID_CACHE_LIMIT) cache.clear();
  }

  /** The artist and album ids of a track, resolved (resolveArtists, resolveAlbums) for its batch. */
  private idsOf(t: TrackInput): { artistId: string; albumId: string } {
    const artistId = this.artistIds.get(nameKey(t.artist_name)) as string;
    return { artistId, albumId: this.albumIds.get(`${artistId}|${nameKey(t.album_title)}`) as string };
  }

  /** `n` numbers from a sequence (`make` turns nextval into the column's value, as its default does). */
  private async reserve(sequence: string, n: number, make = 'nextval($1)'): Promise<number[]> {
    if (n === 0) return [];
    const result = await this.lookups.query<{ n: number }>(`SELECT ${make}::int AS n FROM generate_series(1, $2)`, [sequence, n]);
    return result.rows.map((r) => r.n);
  }

  private async resolveTerms(terms: readonly string[]): Promise<void> {
    const missing = [...new Set(terms.filter((t) => !this.termIds.has(t)))];
    const rows = await this.findOrCreate<{ id: number; term: string }>(missing, (keys) => [keys], (row) => row.term, {
      insert: 'INSERT INTO catalogue_terms (term) SELECT unnest($1::text[]) ORDER BY 1 ON CONFLICT (term) DO NOTHING RETURNING id, term',
      read: `SELECT * FROM (SELECT (SELECT c.id FROM catalogue_terms c WHERE c.term = i.term) AS id, i.term FROM unnest($1::text[]) AS i (term)) x
             WHERE id IS NOT NULL`,
    });
    for (const row of rows) this.termIds.set(row.term, row.id);
  }

  private async resolveArtists(tracks: readonly TrackInput[]): Promise<void> {
    const names = new Map<string, string>();
    for (const t of tracks) {
      const key = nameKey(t.artist_name);
      if (!this.artistIds.has(key)) names.set(key, t.artist_name);
    }
    const rows = await this.findOrCreate<{ id: string; name_key: string }>(
      [...names.keys()],
      (keys) => [keys, keys.map((k) => names.get(k))],
      (row) => row.name_key,
      {
        insert: `INSERT INTO artists (name_key, name) SELECT * FROM unnest($1::text[], $2::text[]) ORDER BY 1
                 ON CONFLICT (name_key) DO NOTHING RETURNING id, name_key`,
        read: `SELECT * FROM (SELECT (SELECT a.id FROM artists a WHERE a.name_key = i.name_key) AS id, i.name_key FROM unnest($1::text[], $2::text[]) AS i (name_key, name)) x
               WHERE id IS NOT NULL`,
      },
    );
    for (const row of rows) this.artistIds.set(row.name_key, row.id);
  }

  private async resolveAlbums(tracks: readonly TrackInput[]): Promise<void> {
    const albums = new Map<string, { artistId: string; title: string; key: string; date: string }>();
    for (const t of tracks) {
      const artistId = this.artistIds.get(nameKey(t.artist_name)) as string;
      const key = `${artistId}|${nameKey(t.album_title)}`;
      if (!this.albumIds.has(key) && !albums.has(key)) albums.set(key, { artistId, title: t.album_title, key: nameKey(t.album_title), date: t.release_date });
    }
    const rows = await this.findOrCreate<{ id: string; artist_id: string; title_key: string }>(
      [...albums.keys()],
      (keys) => {
        const list = keys.map((k) => albums.get(k) as { artistId: string; title: string; key: string; date: string });
        return [list.map((a) => a.artistId), list.map((a) => a.title), list.map((a) => a.key), list.map((a) => a.date)];
      },
      (row) => `${row.artist_id}|${row.title_key}`,
      {
        insert: `INSERT INTO albums (artist_id, title, title_key, release_date) SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::date[]) ORDER BY 1, 3
                 ON CONFLICT (artist_id, title_key) DO NOTHING RETURNING id, artist_id, title_key`,
        read: `SELECT * FROM (
                 SELECT (SELECT a.id FROM albums a WHERE a.artist_id = i.artist_id AND a.title_key = i.title_key) AS id, i.artist_id, i.title_key
                 FROM unnest($1::uuid[], $2::text[], $3::text[], $4::date[]) AS i (artist_id, title, title_key, release_date)) x
               WHERE id IS NOT NULL`,
      },
    );
    for (const row of rows) this.albumIds.set(`${row.artist_id}|${row.title_key}`, row.id);
  }

  /**
   * Ids of rows by key, creating the missing ones: an INSERT … ON CONFLICT DO NOTHING returns the
   * rows it created, then the keys it did not return are read. Existing rows are never rewritten: an
   * ON CONFLICT DO UPDATE (to have them returned) writes a new version of every row it touches, and a
   * rerun touches them all (400 ms a batch for albums at 1M tracks). They are read by a scalar
   * subquery per key, a shape that can only be an index probe (as a join the planner may hash the
   * whole table for every batch). A row that a concurrent writer inserts is waited for by the insert
   * and seen by the read, which has a later snapshot; another round covers the unexpected.
   */
  private async findOrCreate<R>(keys: string[], params: (keys: string[]) => unknown[], keyOf: (row: R) => string, sql: { insert: string; read: string }): Promise<R[]> {
    const found: R[] = [];
    for (let round = 0; keys.length > 0; round++) {
      if (round === 3) throw new Error('could not find or create ids (concurrent writers kept racing)');
      for (const statement of [sql.insert, sql.read]) {
        if (keys.length === 0) break;
        const result = await this.lookups.query<R & QueryResultRow>(statement, params(keys));
        found.push(...result.rows);
        const seen = new Set(result.rows.map(keyOf));
        keys = keys.filter((k) => !seen.has(k));
      }
    }
    return found;
  }
}
