// Runs one search in-process against a catalogue database and shows what it cost:
//   npx node tools/catalogue/explain.ts postgres://…/catalogue_1000000 '{"query":"mi","genre":"city-pop"}' [--plans]
// The JSON holds SearchTracks fields (query, genre, mood, language, minBpm, sort, cursor, …). It runs the
// search three times (the last is printed: total time, page size, partial, time of each SQL statement)
// and with --plans prints EXPLAIN ANALYZE of each statement. Needs the metadata app built.
import 'reflect-metadata';
import path from 'node:path';
import pg from 'pg';

const ROOT = path.resolve(import.meta.dirname, '../..');
const { SearchService } = await import(path.join(ROOT, 'apps/metadata/dist/search/search.service.js'));
const { SearchRepository } = await import(path.join(ROOT, 'apps/metadata/dist/search/search.repository.js'));
const { TermCache } = await import(path.join(ROOT, 'apps/metadata/dist/cache/term-cache.js'));
const { searchTracksSchema } = await import(path.join(ROOT, 'apps/metadata/dist/tracks/track.schemas.js'));

const [url, json = '{}', flag] = process.argv.slice(2);
if (!url) {
  process.stderr.write('usage: explain.ts <database url> <search json> [--plans]\n');
  process.exit(2);
}
const db = new pg.Pool({ connectionString: url, max: 1 });
let recorded: { sql: string; params: unknown[]; ms: number }[] = [];
const runner = {
  query: async (sql: string, params: unknown[] = []) => {
    const started = performance.now();
    const rows = (await db.query(sql, params)).rows;
    recorded.push({ sql, params, ms: performance.now() - started });
    return rows;
  },
};
// The term cache stays off (nothing here listens for invalidations): every run does its dictionary lookups.
const search = new SearchService(new SearchRepository(runner), new TermCache());
const input = searchTracksSchema.parse({
  query: '', genre: '', mood: '', language: '', limit: 20, cursor: '', genres: [], moods: [], tags: [], sort: '', facets: [], key: '', mode: '', vocalType: '',
  ...JSON.parse(json),
});
let line = '';
for (let i = 0; i < 3; i++) {
  recorded = [];
  const started = performance.now();
  const page = await search.search(input);
  line = `total ${(performance.now() - started).toFixed(1)} ms, ${page.tracks.length} tracks, partial ${page.partial}, statements (ms) ${recorded.map((r) => r.ms.toFixed(1)).join(' ')}`;
}
process.stdout.write(`${line}\n`);
if (flag === '--plans') {
  for (const r of recorded) {
    const plan = await db.query(`EXPLAIN (ANALYZE, BUFFERS) ${r.sql}`, r.params);
    process.stdout.write(`\n${r.sql}\n${JSON.stringify(r.params)}\n${plan.rows.map((x) => x['QUERY PLAN']).join('\n')}\n`);
  }
}
await db.end();
