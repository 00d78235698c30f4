// What loading a catalogue costs PostgreSQL alone, the floor under any import of it:
//   npx node tools/catalogue/import-floor.ts postgres://…/catalogue_1000000
// Takes a database the import CLI has loaded, writes its tracks (in ISRC order, as the generated file
// has them) and postings to files in COPY format (not timed), then times loading them back as
// `psql \copy` would, into new tables shaped as the import finds them during a bulk load (tracks
// with their primary key, ISRC key and checks; postings bare), and building the secondary indexes
// the bulk load builds at its end, with the same maintenance_work_mem. Node parses nothing here:
// no validation, tokenising, ids or COPY text. Prints seconds per step and tracks/s as JSON. The
// tables are dropped at the end. Needs free disk of about the size of tracks + postings.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';

const url = process.argv[2];
if (!url) {
  process.stderr.write('usage: import-floor.ts <database url>\n');
  process.exit(2);
}
const TRACK_COLUMNS =
  'id, doc, release_year, isrc, title, artist_name, album_title, duration_ms, release_date, popularity, explicit, attributes, artist_id, album_id, regions, tier, audio_ref, term_ids, source_hash';
const log = (line: string) => process.stderr.write(`${line}\n`);
const client = new pg.Client({ connectionString: url });
await client.connect();
const dir = await mkdtemp(path.join(tmpdir(), 'import-floor-'));
const seconds: Record<string, number> = {};
const timed = async (step: string, work: () => Promise<unknown>) => {
  const started = performance.now();
  await work();
  seconds[step] = Math.round((performance.now() - started) / 100) / 10;
  log(`${step}: ${seconds[step]} s`);
};
try {
  const tracks = Number((await client.query('SELECT count(*) AS n FROM tracks')).rows[0].n);
  const copyOut = (sql: string, file: string) => pipeline(client.query(copyStreams.to(sql)), createWriteStream(file));
  const copyIn = (sql: string, file: string) => pipeline(createReadStream(file), client.query(copyStreams.from(sql)));
  log(`writing ${tracks} tracks and their postings to ${dir}`);
  await copyOut(`COPY (SELECT ${TRACK_COLUMNS} FROM tracks ORDER BY isrc) TO STDOUT`, path.join(dir, 'tracks'));
  await copyOut('COPY track_postings (term_id, popularity, doc, bpm, year, bits) TO STDOUT', path.join(dir, 'postings'));
  const indexes = (
    await client.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes i WHERE tablename IN ('tracks', 'track_postings')
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
    )
  ).rows.map((r) => r.indexdef.replace(/INDEX (\S+) ON (\S+?)(tracks|track_postings) /, 'INDEX floor_$1 ON floor_$3 '));

  await client.query('SET synchronous_commit = off');
  await client.query(`SET maintenance_work_mem = '512MB'`);
  await client.query('DROP TABLE IF EXISTS floor_tracks, floor_track_postings');
  await client.query('CREATE TABLE floor_tracks (LIKE tracks INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS)');
  await client.query('ALTER TABLE floor_tracks ADD PRIMARY KEY (id), ADD UNIQUE (isrc)');
  await client.query('CREATE TABLE floor_track_postings (LIKE track_postings INCLUDING DEFAULTS)');
  await timed('copy tracks', () => copyIn(`COPY floor_tracks (${TRACK_COLUMNS}) FROM STDIN`, path.join(dir, 'tracks')));
  await timed('copy postings', () =>
    copyIn('COPY floor_track_postings (term_id, popularity, doc, bpm, year, bits) FROM STDIN', path.join(dir, 'postings')),
  );
  await timed('build indexes', async () => {
    for (const definition of indexes) await client.query(definition);
  });
  const total = Object.values(seconds).reduce((a, b) => a + b, 0);
  process.stdout.write(
    `${JSON.stringify({ tracks, seconds, totalSeconds: Math.round(total * 10) / 10, tracksPerSecond: Math.round(tracks / total) })}\n`,
  );
} finally {
  await client.query('DROP TABLE IF EXISTS floor_tracks, floor_track_postings').catch(() => undefined);
  await client.end();
  await rm(dir, { recursive: true, force: true });
}
