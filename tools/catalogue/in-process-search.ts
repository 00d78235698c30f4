// The metadata service's search built in-process from the app's build output (`npx nx run metadata:build`),
// for the tools that need the SQL each search sends: bench.ts (replays it as raw SQL) and explain.ts.
import 'reflect-metadata';
import path from 'node:path';
import type pg from 'pg';

const DIST = path.resolve(import.meta.dirname, '../../apps/metadata/dist');
const { SearchService } = await import(path.join(DIST, 'search/search.service.js'));
const { SearchQueryPlanner } = await import(path.join(DIST, 'search/search-query.planner.js'));
const { FacetCounter } = await import(path.join(DIST, 'search/facet.counter.js'));
const { TermDictionary } = await import(path.join(DIST, 'search/term.dictionary.js'));
const { SearchRepository } = await import(path.join(DIST, 'search/search.repository.js'));
const { TermCache } = await import(path.join(DIST, 'cache/term-cache.js'));
const { StatementRunner } = await import(path.join(DIST, 'database/statement.runner.js'));
const { SearchCursorCodec } = await import(path.join(DIST, 'catalogue/search-cursor.js'));
const { searchTracksSchema } = await import(path.join(DIST, 'tracks/track.schemas.js'));

/** One SQL statement a search sent, with how long it took. */
export interface Statement {
  sql: string;
  params: unknown[];
  ms: number;
}

const DEFAULTS = {
  query: '',
  genre: '',
  mood: '',
  language: '',
  limit: 20,
  cursor: '',
  genres: [],
  moods: [],
  tags: [],
  sort: '',
  facets: [],
  key: '',
  mode: '',
  vocalType: '',
};

/**
 * A SearchService on `pool`. With `termCache` its dictionary cache is on (as in a running service,
 * where nothing here would clear it); off, every search does its dictionary lookups.
 */
export function inProcessSearch(pool: pg.Pool, options: { termCache: boolean }) {
  let statements: Statement[] = [];
  const record = async <T>(sql: string, params: unknown[], run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await run();
    statements.push({ sql, params, ms: performance.now() - started });
    return result;
  };
  // What the repository uses of a TypeORM DataSource: `query`, and `createQueryRunner` for the
  // statements it prepares (`statementName`), prepared here the same way.
  const runner = {
    options: {},
    query: (sql: string, params: unknown[] = []) => record(sql, params, async () => (await pool.query(sql, params)).rows),
    createQueryRunner: () => {
      let client: pg.PoolClient | undefined;
      return {
        connect: async () => {
          const connected = await pool.connect();
          client = connected;
          return {
            processID: (connected as unknown as { processID: number }).processID,
            query: (config: { name: string; text: string; values: unknown[] }) =>
              record(config.text, config.values, () => connected.query(config)),
          };
        },
        release: async () => client?.release(),
      };
    },
  };
  const cache = new TermCache();
  if (options.termCache) cache.setEnabled(true);
  // Nothing here is cancelled, and the cursors never leave this process: any key signs them.
  const statementRunner = new StatementRunner(runner, { cancel: async () => undefined });
  const repository = new SearchRepository(runner, statementRunner);
  const terms = new TermDictionary(repository, cache);
  const service = new SearchService(
    repository,
    new SearchQueryPlanner(terms),
    new FacetCounter(repository, terms),
    new SearchCursorCodec('in-process-search-cursor-key-0123456789'),
  );
  return {
    /** Runs one search (SearchTracks fields, options flattened in; the rest defaulted): its page and its SQL. */
    async search(
      fields: Record<string, unknown>,
    ): Promise<{ page: { tracks: unknown[]; nextCursor: string; partial: boolean }; statements: Statement[] }> {
      statements = [];
      const page = await service.search(searchTracksSchema.parse({ ...DEFAULTS, ...fields }));
      return { page, statements };
    },
  };
}
