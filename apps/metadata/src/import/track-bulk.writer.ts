import type { ClientBase } from 'pg';
import { BulkAppendWriter, type PreparedAppend } from './bulk-append.writer.js';
import type { BulkResult, BulkRow, RereadRows } from './bulk-row.js';
import { CatalogueIdCache } from './catalogue-id.cache.js';
import type { ImportCheckpoint } from './import-checkpoint.js';
import { TrackUpsertWriter } from './track-upsert.writer.js';

export type { BulkResult, BulkRow, RereadRows } from './bulk-row.js';
export type { PreparedAppend } from './bulk-append.writer.js';

/**
 * Writes tracks in batches by one of two paths that share one set of id caches: the upsert by ISRC
 * (`write`: TrackUpsertWriter) and, during a bulk load, the append of new tracks by COPY
 * (`startBulkLoad`, `prepareAppend`, `commitAppend`, `recountTerms`: BulkAppendWriter).
 */
export class TrackBulkWriter {
  private readonly upsert: TrackUpsertWriter;
  private readonly append: BulkAppendWriter;

  /**
   * @param client runs the write transactions.
   * @param lookups creates and reads term, artist and album ids (autocommit statements): by default
   *   the same connection; the import passes a second one so lookups for the next batch need not
   *   wait for the current batch's transaction.
   * @param reread reads a failed bulk batch's rows again (bulk loads only).
   */
  constructor(client: ClientBase, lookups: ClientBase = client, reread?: RereadRows) {
    const ids = new CatalogueIdCache(lookups);
    this.upsert = new TrackUpsertWriter(client, ids);
    this.append = new BulkAppendWriter(client, lookups, ids, this.upsert, reread);
  }

  /** Whether `prepareAppend` makes COPY data: from `startBulkLoad` until a bulk batch fails. */

  /** Whether `prepareAppend` makes COPY data: from `startBulkLoad` until a bulk batch fails. */
  get bulk(): boolean {
    return this.append.bulk;
  }

  /** Writes one batch atomically through the upsert (TrackUpsertWriter.write). */
  write(rows: readonly BulkRow[], checkpoint?: ImportCheckpoint): Promise<BulkResult> {
    return this.upsert.write(rows, checkpoint);
  }

  /** Starts a bulk load (BulkAppendWriter.startBulkLoad). */
  startBulkLoad(resumed: boolean): Promise<void> {
    return this.append.startBulkLoad(resumed);
  }

  /** Makes a chunk of rows ready for a bulk batch (BulkAppendWriter.prepareAppend). */
  prepareAppend(rows: readonly BulkRow[], into?: PreparedAppend): Promise<PreparedAppend> {
    return this.append.prepareAppend(rows, into);
  }

  /** Writes a prepared bulk batch (BulkAppendWriter.commitAppend). */
  commitAppend(batch: PreparedAppend, checkpoint?: ImportCheckpoint): Promise<BulkResult> {
    return this.append.commitAppend(batch, checkpoint);
  }

  /** Brings the term and pair counts up to date at the end of a bulk load (BulkAppendWriter.recountTerms). */
  recountTerms(): Promise<void> {
    return this.append.recountTerms();
  }
}
