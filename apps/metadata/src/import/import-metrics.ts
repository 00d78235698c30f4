import { counter, gauge } from '@overture/metrics';

/**
 * What a running import exports on its ops port (the import command serves OPS_LISTEN as `serve`
 * does): the file's size and the bytes read of it, for progress and an ETA, and its rows by
 * outcome. Counted per batch and per chunk read, never per row.
 */
export class ImportMetrics {
  private readonly rows = counter({
    name: 'overture_import_rows_total',
    help: 'Rows of the catalogue import, by outcome (created, updated, unchanged, rejected).',
    labelNames: ['outcome'],
  });
  private readonly read = counter({
    name: 'overture_import_read_bytes_total',
    help: 'Bytes of the import file read so far (a resumed import reads past what it skips, too).',
  });

  constructor(sourceBytes: number) {
    gauge({ name: 'overture_import_source_bytes', help: 'Size of the file being imported, in bytes.' }).set(sourceBytes);
  }

  bytesRead(n: number): void {
    this.read.inc(n);
  }

  written(result: { readonly created: number; readonly updated: number; readonly unchanged: number }): void {
    if (result.created > 0) this.rows.inc({ outcome: 'created' }, result.created);
    if (result.updated > 0) this.rows.inc({ outcome: 'updated' }, result.updated);
    if (result.unchanged > 0) this.rows.inc({ outcome: 'unchanged' }, result.unchanged);
  }

  rejected(): void {
    this.rows.inc({ outcome: 'rejected' });
  }
}
