import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ClientBase } from 'pg';
import copyStreams from 'pg-copy-streams';
import { CHANGE_FEED_LOCK } from '../catalogue/change-feed.lock.js';
import { copyOut, flat } from '../catalogue/copy-out.reader.js';
import { nameKey } from '../catalogue/name-key.js';
import { recountPairs } from '../catalogue/pair-recount.js';
import { sourceHash } from '../catalogue/source-hash.js';
import { ADD_PAIR_COUNTS_SQL, isPairedTerm, PairCounter } from '../catalogue/term-pairs.js';
import { trackBits } from '../catalogue/term-bits.js';
import { TRACK_CACHE_CHANNEL } from '../catalogue/track-cache.channel.js';
import type { TrackInput } from '../catalogue/track-input.schema.js';
import { trackTerms } from '../catalogue/track-terms.js';
import type { BulkResult, BulkRow, RereadRows } from './bulk-row.js';
import type { CatalogueIdCache } from './catalogue-id.cache.js';
import { asciiBytes, CopyData, copyText, STAGING_COLUMNS, trackColumns } from './copy-text.encoder.js';
import { saveCheckpoint, type ImportCheckpoint } from './import-checkpoint.js';
import { IsrcSet } from './isrc-set.js';
import type { TrackUpsertWriter } from './track-upsert.writer.js';

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

/**
 * The bulk-load path: new tracks appended by COPY with ids the writer makes itself (see
 * `prepareAppend`); rows it cannot append are handed to the upsert.
 */
export class BulkAppendWriter {
  /** ISRCs of the catalogue, during a bulk load: those it started with and those it has appended. */
  private readonly appended = new IsrcSet();
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

  /** @param reread reads a failed bulk batch's rows again. */
  constructor(
    private readonly client: ClientBase,
    private readonly lookups: ClientBase,
    private readonly ids: CatalogueIdCache,
    private readonly upsert: TrackUpsertWriter,
    private readonly reread?: RereadRows,
  ) {}

  /** Whether `prepareAppend` makes COPY data: from `startBulkLoad` until a bulk batch fails. */
  get bulk(): boolean {
    return this.ids.complete;
  }

  /**
   * Starts a bulk load: reads every artist, album and term id and every ISRC already in the catalogue
   * (what it held before, and what an interrupted load committed when this one resumes it) into the
   * writer, so that `prepareAppend` can tell new keys from known ones without asking the database.
   * @param resumed whether this load finishes an interrupted one, whose appended tracks were never
   *   added to the term and pair counts: then those are recounted at the end instead of added to.
   */
  async startBulkLoad(resumed: boolean): Promise<void> {
    await this.ids.loadAll();
    for (const [term, id] of this.ids.terms) if (isPairedTerm(term)) this.pairedIds.add(id);
    for await (const [isrc] of copyOut(this.lookups, 'COPY (SELECT isrc FROM tracks) TO STDOUT')) this.appended.add(isrc);
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
      copies: {
        artists: new CopyData(),
        albums: new CopyData(),
        terms: new CopyData(),
        tracks: new CopyData(),
        postings: new CopyData(),
        changes: new CopyData(),
      },
    };
    batch.lines.to = to;
    // Once a batch has failed, or this one was started before, it goes through the upsert.
    const upsert = (): PreparedAppend => Object.assign(batch, { copies: undefined });
    if (!this.ids.complete || batch.epoch !== epoch || !batch.copies) return upsert();
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
        const id = this.ids.terms.get(term);
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
      this.ids.terms.set(flat(term), id);
      if (isPairedTerm(term)) this.pairedIds.add(id);
      terms.add(`${id}\t${copyText(term)}\n`);
    }
    for (let i = 0; i < fresh.length; i++) {
      const t = fresh[i] as TrackInput;
      const doc = docs[i] as number;
      const artistKey = nameKey(t.artist_name);
      let artistId = this.ids.artists.get(artistKey);
      if (artistId === undefined) {
        this.ids.artists.set(flat(artistKey), (artistId = flat(randomUUID())));
        artists.add(`${artistId}\t${copyText(t.artist_name)}\t${copyText(artistKey)}\n`);
      }
      const titleKey = nameKey(t.album_title);
      const albumKey = `${artistId}|${titleKey}`;
      let albumId = this.ids.albums.get(albumKey);
      if (albumId === undefined) {
        this.ids.albums.set(flat(albumKey), (albumId = flat(randomUUID())));
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

  async commitAppend(batch: PreparedAppend, checkpoint?: ImportCheckpoint): Promise<BulkResult> {
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
    const rest = await this.upsert.write(batch.again, checkpoint);
    return {
      created: result.created + rest.created,
      updated: result.updated + rest.updated,
      unchanged: result.unchanged + rest.unchanged,
      rejected: [...result.rejected, ...rest.rejected],
    };
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

  /** A bulk batch through the upsert, its rows read again from the source. */
  private async rewrite(batch: PreparedAppend, checkpoint?: ImportCheckpoint): Promise<BulkResult> {
    if (!this.reread) throw new Error('a failed bulk batch needs its rows read again, and this writer has no reread');
    return this.upsert.write(await this.reread(batch.lines), checkpoint);
  }

  /** After a failed bulk batch: the caches may hold ids never committed; forget them, look ids up from now on. */
  private leaveBulkIds(): void {
    this.epoch++;
    this.ids.forget();
    this.pairedIds.clear();
  }

  private async appendBatch(copies: BulkCopies, created: number, checkpoint?: ImportCheckpoint): Promise<BulkResult> {
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
      if (checkpoint) await saveCheckpoint(this.client, checkpoint);
      await this.client.query('SELECT pg_notify($1, $2)', [TRACK_CACHE_CHANNEL, '*']);
      await this.client.query('COMMIT');
    } catch (error) {
      await this.client.query('ROLLBACK');
      throw error;
    }
    return { created, updated: 0, unchanged: 0, rejected: [] };
  }

  /** `n` numbers from a sequence (`make` turns nextval into the column's value, as its default does). */
  private async reserve(sequence: string, n: number, make = 'nextval($1)'): Promise<number[]> {
    if (n === 0) return [];
    const result = await this.lookups.query<{ n: number }>(`SELECT ${make}::int AS n FROM generate_series(1, $2)`, [sequence, n]);
    return result.rows.map((r) => r.n);
  }
}
