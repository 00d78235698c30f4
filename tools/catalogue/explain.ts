// Runs one search in-process against a catalogue database and shows what it cost:
//   npx node tools/catalogue/explain.ts postgres://…/catalogue_1000000 '{"query":"mi","genre":"city-pop"}' [--plans]
// The JSON holds SearchTracks fields (query, genre, mood, language, minBpm, sort, cursor, …). It runs the
// search three times (the last is printed: total time, page size, partial, time of each SQL statement)
// and with --plans prints EXPLAIN ANALYZE of each statement. Needs the metadata app built.
import pg from 'pg';
import { inProcessSearch, type Statement } from './in-process-search.ts';

const [url, json = '{}', flag] = process.argv.slice(2);
if (!url) {
  process.stderr.write('usage: explain.ts <database url> <search json> [--plans]\n');
  process.exit(2);
}
const db = new pg.Pool({ connectionString: url, max: 1 });
// The term cache stays off: every run does its dictionary lookups, as a cold replica would.
const search = inProcessSearch(db, { termCache: false });
let line = '';
let statements: Statement[] = [];
for (let i = 0; i < 3; i++) {
  const started = performance.now();
  const result = await search.search(JSON.parse(json));
  statements = result.statements;
  const { page } = result;
  line = `total ${(performance.now() - started).toFixed(1)} ms, ${page.tracks.length} tracks, partial ${page.partial}, statements (ms) ${statements.map((r) => r.ms.toFixed(1)).join(' ')}`;
}
process.stdout.write(`${line}\n`);
if (flag === '--plans') {
  for (const r of statements) {
    const plan = await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${r.sql}`, r.params);
    process.stdout.write(`\n${r.sql}\n${JSON.stringify(r.params)}\n${plan.rows.map((x) => x['QUERY PLAN']).join('\n')}\n`);
  }
}
await db.end();
