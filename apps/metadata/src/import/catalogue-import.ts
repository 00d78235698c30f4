import { createWriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { pendingMigrations } from '@overture/database';
import pg from 'pg';
import { CommandError } from '../command-error.js';
import { migrations } from '../database/migrations/index.js';
import { compiledTrackInputSchema } from '../catalogue/track-input.schema.js';
import { ImportMetrics } from './import-metrics.js';
import { formatSeconds, ProgressBar } from './progress-bar.js';
import { statementProgress, StepDisplay } from './statement-progress.js';
import { readSource, type SourceRecord } from './import-source.js';
import { TrackBulkWriter, type BulkResult, type BulkRow, type PreparedAppend } from './track-bulk.writer.js';

export interface ImportOptions {
  databaseUrl: string;
  file: string;
  batchSize: number;
  /** Where every rejected row is written, as JSON Lines `{line, reason}`. */
  rejectsFile: string;
  /**
   * `auto` (the default): a bulk load when the catalogue is empty or the file holds at least
   * BULK_LOAD_GROWTH times as many rows as the catalogue has tracks; `always`; `never` (the search
   * indexes stay, for a catalogue that is serving). An interrupted bulk load is always finished as one.
   */
  bulkLoad?: BulkLoadChoice;
  progress?: NodeJS.WriteStream;
}

export type BulkLoadChoice = 'auto' | 'always' | 'never';
export const BULK_LOAD_CHOICES: readonly BulkLoadChoice[] = ['auto', 'always', 'never'];

export interface ImportReport {
  read: number;
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
  resumedAfterLine: number;
  /** Whether the import ran as a bulk load (search indexes rebuilt at its end). */
  bulkLoad: boolean;
  seconds: number;
  /** The first few rejected rows, for the summary. */
  sampleRejects: { line: number; reason: string }[];
}

const SAMPLE_REJECTS = 20;
/**
 * An import into a catalogue with tracks is a bulk load (by default) only when the file holds at
 * least this many times as many rows: then the catalogue is mostly what the import creates, such as
 * a demo catalogue before a real one is loaded, and rebuilding the indexes over the few tracks it
 * had costs little. Into a larger catalogue the import keeps the indexes: a bulk load drops them
 * until its end, and searches meanwhile would scan.
 */
export const BULK_LOAD_GROWTH = 10;
/** Rows a bulk load prepares at a time: few enough that they are garbage before the next young collection. */
const CHUNK_ROWS = 1_000;

/** A source record validated: the row, or why it is rejected. */
function validRow(record: SourceRecord): BulkRow | string {
  if (record.error) return record.error;
  const parsed = compiledTrackInputSchema.safeParse(record.value);
  if (parsed.success) return { line: record.line, track: parsed.data };
  return parsed.error.issues.map((i) => `${i.path.join('.') || 'row'}: ${i.message}`).join('; ');
}

/** The valid rows of lines `from`…`to` of a source, read again (their rejects were reported the first time). */
async function readRows(file: string, lines: { from: number; to: number }): Promise<BulkRow[]> {
  const rows: BulkRow[] = [];
  for await (const record of readSource(file, lines.from - 1, () => undefined)) {
    if (record.line > lines.to) break;
    const row = validRow(record);
    if (typeof row !== 'string') rows.push(row);
  }
  return rows;
}

/**
 * Imports a JSON Lines or CSV catalogue file: validates each row (a bad row is reported, never fatal),
 * writes batches with COPY + set-based upserts by ISRC, and commits a checkpoint with every batch so
 * that a rerun after an interruption resumes after the last committed batch. A completed import
 * clears its checkpoint: running it again re-reads the file and changes nothing (same content hash).
 */
export async function importCatalogue(options: ImportOptions): Promise<ImportReport> {
  const file = path.resolve(options.file);
  const size = await fileSize(file);
  const source = `${file}:${size}`;
  await checkSchema(options.databaseUrl);
  const client = new pg.Client({ connectionString: options.databaseUrl, application_name: 'overture-metadata-import' });
  await client.connect();
  // Ids for the next batch are looked up (upserts) or reserved (bulk load) on a second connection
  // while the current batch's transaction runs on the first.
  const lookups = new pg.Client({ connectionString: options.databaseUrl, application_name: 'overture-metadata-import-lookups' });
  try {
    await lookups.connect();
  } catch (error) {
    await client.end();
    throw error;
  }
  const rejects = createWriteStream(options.rejectsFile);
  try {
    // Each batch commits its rows and its checkpoint together; losing the last commits in a crash loses
    // both, and the rerun redoes them. So the WAL flush per commit can be skipped.
    await client.query('SET synchronous_commit = off');
    const saved = await client.query<{ line: string }>('SELECT line FROM import_checkpoints WHERE source = $1', [source]);
    const resumedAfterLine = Number(saved.rows[0]?.line ?? 0);
    const out = options.progress ?? process.stderr;
    const bulk = await enterBulkLoad(client, options.bulkLoad ?? 'auto', await estimateRows(file, size));
    out.write(`${bulk.reason}\n`);
    const writer = new TrackBulkWriter(client, lookups, (lines) => readRows(file, lines));
    if (bulk.mode) await writer.startBulkLoad(bulk.mode === 'resumed');
    const progress = new ProgressBar(size, 0, options.progress);
    const metrics = new ImportMetrics(size);
    const report: ImportReport = {
      read: 0,
      created: 0,
      updated: 0,
      unchanged: 0,
      rejected: 0,
      resumedAfterLine,
      bulkLoad: bulk.mode !== undefined,
      seconds: 0,
      sampleRejects: [],
    };
    const startedAt = Date.now();
    const reject = (line: number, reason: string): void => {
      report.rejected++;
      metrics.rejected();
      if (report.sampleRejects.length < SAMPLE_REJECTS) report.sampleRejects.push({ line, reason });
      rejects.write(`${JSON.stringify({ line, reason })}\n`);
    };
    const account = (result: BulkResult): void => {
      report.created += result.created;
      report.updated += result.updated;
      report.unchanged += result.unchanged;
      metrics.written(result);
      for (const r of result.rejected) reject(r.line, r.reason);
    };

    // Rows read and not yet handed on: a batch for the upsert, or (bulk load) a chunk to prepare.
    let rows: BulkRow[] = [];
    // Bulk load: the batch being filled, chunk by chunk, so that rows die young.
    let open: PreparedAppend | undefined;
    let openRows = 0;
    let lastLine = resumedAfterLine;
    // One batch is written while the next is read and (bulk load) prepared: its ids made and its
    // COPY data written. Batches commit in order, each with its checkpoint.
    let inFlight: Promise<void> = Promise.resolve();
    const commit = async (write: () => Promise<BulkResult>): Promise<void> => {
      await inFlight;
      const next = write().then(account);
      // A failed write surfaces at the next `await inFlight`; until then it must not count as an
      // unhandled rejection (which would end the process before the error is reported).
      next.catch(() => undefined);
      inFlight = next;
    };
    const prepareChunk = async (): Promise<void> => {
      if (rows.length === 0) return;
      open = await writer.prepareAppend(rows, open);
      openRows += rows.length;
      rows = [];
    };
    const flush = async (): Promise<void> => {
      const checkpoint = { source, line: lastLine };
      if (open || writer.bulk) {
        await prepareChunk();
        const batch = open;
        open = undefined;
        openRows = 0;
        if (batch) await commit(() => writer.commitAppend(batch, checkpoint));
      } else {
        const batch = rows;
        rows = [];
        await commit(() => writer.write(batch, checkpoint));
      }
    };
    for await (const record of readSource(file, resumedAfterLine, (n) => {
      progress.addBytes(n);
      metrics.bytesRead(n);
    })) {
      report.read++;
      lastLine = record.line;
      const row = validRow(record);
      if (typeof row === 'string') reject(record.line, row);
      else rows.push(row);
      if (writer.bulk && rows.length >= CHUNK_ROWS) await prepareChunk();
      if (openRows + rows.length >= options.batchSize) await flush();
      progress.update(report.created + report.updated + report.unchanged, report.rejected);
    }
    await flush();
    await inFlight;
    progress.finish(report.created + report.updated + report.unchanged, report.rejected);
    if (bulk.mode) await leaveBulkLoad(options.databaseUrl, client, writer, out);
    await client.query('DELETE FROM import_checkpoints WHERE source = $1', [source]);
    report.seconds = (Date.now() - startedAt) / 1000;
    return report;
  } finally {
    await new Promise<void>((resolve) => rejects.end(resolve));
    await lookups.end();
    await client.end();
  }
}

/** The size of the file to import; a missing or unreadable one is a CommandError (exit 66, EX_NOINPUT). */
async function fileSize(file: string): Promise<number> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw new CommandError(`cannot import ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`, 66);
  });
  if (!info.isFile()) throw new CommandError(`cannot import ${file}: not a file`, 66);
  return info.size;
}

/**
 * Refuses, before touching anything, a database that cannot be reached or lacks the catalogue's
 * schema: the import needs every migration and does not apply them itself (that is the `migrate`
 * command's job, run once per release, as in Kubernetes' migrate job).
 */
async function checkSchema(databaseUrl: string): Promise<void> {
  let pending: string[];
  try {
    pending = await pendingMigrations(databaseUrl, migrations);
  } catch (error) {
    throw new CommandError(`cannot reach the catalogue database (DATABASE_URL): ${(error as Error).message}`);
  }
  const migrate = 'run `node apps/metadata/dist/main.js migrate` with the same DATABASE_URL first';
  if (pending.length === migrations.length) throw new CommandError(`the database has no catalogue schema: ${migrate}`);
  if (pending.length) throw new CommandError(`the catalogue schema is out of date (pending: ${pending.join(', ')}): ${migrate}`);
}

/** The tables a bulk load writes: their secondary indexes are deferred and autovacuum paused. */
const BULK_TABLES = ['tracks', 'track_postings', 'catalogue_terms', 'albums'];

/** About how many rows `file` holds: its newlines per byte in the first MiB, times its size (exact for a smaller file). */
async function estimateRows(file: string, size: number): Promise<number> {
  const handle = await open(file);
  try {
    const sample = Buffer.alloc(Math.min(size, 1 << 20));
    const { bytesRead } = await handle.read(sample, 0, sample.length, 0);
    let lines = 0;
    for (let i = sample.indexOf(10); i !== -1 && i < bytesRead; i = sample.indexOf(10, i + 1)) lines++;
    if (bytesRead >= size) return lines + (size > 0 && sample[size - 1] !== 10 ? 1 : 0);
    return Math.round((lines / Math.max(bytesRead, 1)) * size);
  } finally {
    await handle.close();
  }
}

/**
 * A bulk load (see BulkLoadChoice for when): the secondary indexes of tracks, postings, terms and
 * albums are dropped and rebuilt once at the end (then the tables are vacuumed), which is several
 * times faster than maintaining them row by row, autovacuum is paused on those tables until then,
 * and term counts are added up at the end. The index definitions are kept in
 * import_deferred_indexes so an interrupted load still rebuilds them when resumed. Returns the
 * mode (undefined: not a bulk load) and a line saying why.
 */
async function enterBulkLoad(
  client: pg.Client,
  choice: BulkLoadChoice,
  rows: number,
): Promise<{ mode?: 'fresh' | 'resumed'; reason: string }> {
  const pending = await client.query('SELECT 1 FROM import_deferred_indexes LIMIT 1');
  if (pending.rowCount) return { mode: 'resumed', reason: 'bulk load: finishing an interrupted one (search indexes rebuilt at the end)' };
  const about = `the file holds about ${rows.toLocaleString('en')} rows`;
  if (choice === 'never') return { reason: `not a bulk load (--bulk-load never): search indexes kept up to date row by row; ${about}` };
  // Counted no further than decides the choice: a large catalogue is not counted to the end.
  const cap = Math.floor(rows / BULK_LOAD_GROWTH);
  const existing =
    (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM (SELECT 1 FROM tracks LIMIT $1) t', [cap + 1])).rows[0]?.n ?? 0;
  const holds = existing > cap ? `more than ${cap.toLocaleString('en')}` : existing.toLocaleString('en');
  if (choice === 'auto' && existing > cap) {
    return {
      reason: `not a bulk load: the catalogue holds ${holds} tracks, ${about} (fewer than ${BULK_LOAD_GROWTH}× as many); search indexes kept up to date row by row`,
    };
  }
  await client.query('BEGIN');
  const indexes = await client.query<{ indexname: string; indexdef: string }>(
    `SELECT i.indexname, i.indexdef FROM pg_indexes i
     WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
    [BULK_TABLES],
  );
  for (const index of indexes.rows) {
    await client.query('INSERT INTO import_deferred_indexes (name, definition) VALUES ($1, $2)', [index.indexname, index.indexdef]);
    await client.query(`DROP INDEX ${pg.escapeIdentifier(index.indexname)}`);
  }
  // Autovacuum would vacuum each growing table again after every 20 % of inserts (about a dozen
  // passes over the postings in a 10M load); the load vacuums once at its end instead.
  for (const table of BULK_TABLES) await client.query(`ALTER TABLE ${table} SET (autovacuum_enabled = false)`);
  await client.query('COMMIT');
  const why = choice === 'always' ? '--bulk-load always' : `the catalogue holds ${holds} tracks, ${about}`;
  return { mode: 'fresh', reason: `bulk load (${why}): search indexes dropped and rebuilt at the end` };
}

/**
 * The end of a bulk load: term counts, vacuums, index builds, one after the other. PostgreSQL
 * already builds an index with parallel workers, so builds side by side only slow each other, and
 * two vacuums at once gain nothing (figures: docs/benchmarks.md).
 */
async function leaveBulkLoad(databaseUrl: string, client: pg.Client, writer: TrackBulkWriter, out: NodeJS.WriteStream): Promise<void> {
  // What PostgreSQL reports of the steps is read on a connection of its own: the import's is busy
  // running them. Progress is a courtesy: without that connection (refused, or lost later) the
  // steps run all the same, with their start and end lines only.
  const monitor = new pg.Client({ connectionString: databaseUrl, application_name: 'overture-metadata-import-progress' });
  monitor.on('error', () => undefined);
  const connected = await monitor.connect().then(
    () => true,
    () => false,
  );
  const display = new StepDisplay(out, async (pid) => (connected ? statementProgress(monitor, pid) : undefined));
  const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0;
  const step: Step = async ([doing, done], subject, work) => {
    const started = Date.now();
    display.say(`${doing} ${subject}…`);
    await display.during(pid, subject, work);
    display.say(`${done} ${subject} in ${formatSeconds((Date.now() - started) / 1000)}`);
  };
  try {
    await finishBulkLoad(client, writer, step);
  } finally {
    display.stop();
    await monitor.end().catch(() => undefined);
  }
}

/** Runs `work`, a statement on the import's connection, saying when it starts and ends ("building index x…", "built index x in 3s") and showing its progress. */
type Step = (verb: [doing: string, done: string], subject: string, work: () => Promise<unknown>) => Promise<void>;

async function finishBulkLoad(client: pg.Client, writer: TrackBulkWriter, step: Step): Promise<void> {
  await client.query(`SET maintenance_work_mem = '512MB'`);
  // Term counts first, while the deferred indexes still mark this load as unfinished: if it is
  // interrupted here, the rerun is a bulk load again and counts again.
  await step(['counting', 'counted'], 'tracks per term', () => writer.recountTerms());
  // The batches committed asynchronously, and VACUUM cannot mark a page all-visible while the commit
  // of a row on it may still be unflushed. A transaction that writes to the WAL, committed
  // synchronously, flushes every earlier commit. (One that only takes a transaction id writes
  // nothing before its commit record, so PostgreSQL commits it asynchronously whatever the setting.)
  await client.query('SET synchronous_commit = on');
  await client.query('BEGIN');
  await client.query(`SELECT pg_logical_emit_message(true, 'overture-import', 'bulk load written')`);
  await client.query('COMMIT');
  // Walks and probes are index-only scans, which read the heap for every entry on a page the
  // visibility map does not mark all-visible: right after a bulk load that is every page, and
  // autovacuum takes many minutes to get through ten million tracks. Vacuum now, so the first
  // searches after an import are as fast as the later ones; and before the indexes are built: the
  // first pass over a loaded page sets its tuples' hint bits, which with data checksums (the default
  // since PostgreSQL 18) writes the whole page to the WAL again when a checkpoint came since it was
  // written. Done by VACUUM, before the index builds, that pass has no index to vacuum and the builds
  // read settled pages.
  for (const table of ['tracks', 'track_postings'])
    await step(['vacuuming', 'vacuumed'], table, () => client.query(`VACUUM (ANALYZE) ${table}`));
  const deferred = await client.query<{ name: string; definition: string }>(
    'SELECT name, definition FROM import_deferred_indexes ORDER BY name',
  );
  for (const index of deferred.rows) {
    await step(['building index', 'built index'], index.name, async () => {
      await client.query('BEGIN');
      await client.query(index.definition.replace(/^CREATE (UNIQUE )?INDEX /, 'CREATE $1INDEX IF NOT EXISTS '));
      await client.query('DELETE FROM import_deferred_indexes WHERE name = $1', [index.name]);
      await client.query('COMMIT');
    });
  }
  for (const table of BULK_TABLES) await client.query(`ALTER TABLE ${table} RESET (autovacuum_enabled)`);
}

export function formatReport(report: ImportReport, rejectsFile: string): string {
  const rate = Math.round((report.created + report.updated + report.unchanged) / Math.max(report.seconds, 0.001));
  const lines = [
    `import done in ${formatSeconds(report.seconds)} (${rate.toLocaleString('en')} rows/s)` +
      (report.resumedAfterLine ? `, resumed after line ${report.resumedAfterLine}` : ''),
    `  read ${report.read}  created ${report.created}  updated ${report.updated}  unchanged ${report.unchanged}  rejected ${report.rejected}`,
  ];
  if (report.rejected) {
    lines.push(`  rejected rows (all ${report.rejected} in ${rejectsFile}):`);
    for (const r of report.sampleRejects) lines.push(`    line ${r.line}: ${r.reason}`);
  }
  return lines.join('\n');
}
