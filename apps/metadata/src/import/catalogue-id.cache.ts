import type { ClientBase, QueryResultRow } from 'pg';
import { copyOut } from '../catalogue/copy-out.reader.js';
import { nameKey } from '../catalogue/name-key.js';
import type { TrackInput } from '../catalogue/track-input.schema.js';

/** Most ids an id cache keeps between batches. */
const ID_CACHE_LIMIT = 1_000_000;

/**
 * The term, artist and album ids of the catalogue the import has met, by key (the term; the artist's
 * name key; the artist id and the album's title key), kept in memory across batches. Ids missing
 * from them are found or created in the database on the lookup connection.
 */
export class CatalogueIdCache {
  readonly terms = new Map<string, number>();
  readonly artists = new Map<string, string>();
  readonly albums = new Map<string, string>();
  private whole = false;

  /**
   * @param lookups creates and reads ids (autocommit statements), so lookups for the next batch need
   *   not wait for the current batch's transaction.
   */
  constructor(private readonly lookups: ClientBase) {}

  /**
   * Whether the caches hold every artist, album and term of the catalogue (after `loadAll`, during a
   * bulk load), so that a key missing from them is new and the writer makes its id itself. Off again
   * for good after `forget`.
   */
  get complete(): boolean {
    return this.whole;
  }

  /** Reads every artist, album and term id of the catalogue. */
  async loadAll(): Promise<void> {
    for await (const [id, key] of copyOut(this.lookups, 'COPY (SELECT id, name_key FROM artists) TO STDOUT')) this.artists.set(key, id);
    for await (const [id, artistId, key] of copyOut(this.lookups, 'COPY (SELECT id, artist_id, title_key FROM albums) TO STDOUT')) {
      this.albums.set(`${artistId}|${key}`, id);
    }
    for await (const [id, term] of copyOut(this.lookups, 'COPY (SELECT id, term FROM catalogue_terms) TO STDOUT')) {
      this.terms.set(term, Number(id));
    }
    this.whole = true;
  }

  /** After a failed bulk batch: the caches may hold ids that were never committed. */
  forget(): void {
    this.whole = false;
    for (const cache of [this.terms, this.artists, this.albums]) cache.clear();
  }

  /**
   * Empties an id cache that has passed ID_CACHE_LIMIT, between batches only (a batch reads the ids it
   * resolved). Unbounded, the caches grew with the catalogue: at 10M tracks the import held ~3 GB of
   * live heap, and every major garbage collection marked all of it.
   */
  trim(): void {
    if (this.whole) return;
    for (const cache of [this.terms, this.artists, this.albums]) if (cache.size > ID_CACHE_LIMIT) cache.clear();
  }

  /** The artist and album ids of a track, resolved (resolveArtists, resolveAlbums) for its batch. */
  idsOf(t: TrackInput): { artistId: string; albumId: string } {
    const artistId = this.artists.get(nameKey(t.artist_name)) as string;
    return { artistId, albumId: this.albums.get(`${artistId}|${nameKey(t.album_title)}`) as string };
  }

  async resolveTerms(terms: readonly string[]): Promise<void> {
    const missing = [...new Set(terms.filter((t) => !this.terms.has(t)))];
    const rows = await this.findOrCreate<{ id: number; term: string }>(
      missing,
      (keys) => [keys],
      (row) => row.term,
      {
        insert: 'INSERT INTO catalogue_terms (term) SELECT unnest($1::text[]) ORDER BY 1 ON CONFLICT (term) DO NOTHING RETURNING id, term',
        read: `SELECT * FROM (SELECT (SELECT c.id FROM catalogue_terms c WHERE c.term = i.term) AS id, i.term FROM unnest($1::text[]) AS i (term)) x
             WHERE id IS NOT NULL`,
      },
    );
    for (const row of rows) this.terms.set(row.term, row.id);
  }

  async resolveArtists(tracks: readonly TrackInput[]): Promise<void> {
    const names = new Map<string, string>();
    for (const t of tracks) {
      const key = nameKey(t.artist_name);
      if (!this.artists.has(key)) names.set(key, t.artist_name);
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
    for (const row of rows) this.artists.set(row.name_key, row.id);
  }

  async resolveAlbums(tracks: readonly TrackInput[]): Promise<void> {
    const albums = new Map<string, { artistId: string; title: string; key: string; date: string }>();
    for (const t of tracks) {
      const artistId = this.artists.get(nameKey(t.artist_name)) as string;
      const key = `${artistId}|${nameKey(t.album_title)}`;
      if (!this.albums.has(key) && !albums.has(key))
        albums.set(key, { artistId, title: t.album_title, key: nameKey(t.album_title), date: t.release_date });
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
    for (const row of rows) this.albums.set(`${row.artist_id}|${row.title_key}`, row.id);
  }

  /**
   * Ids of rows by key, creating the missing ones: an INSERT … ON CONFLICT DO NOTHING returns the
   * rows it created, then the keys it did not return are read. Existing rows are never rewritten: an
   * ON CONFLICT DO UPDATE (to have them returned) writes a new version of every row it touches, and a
   * rerun touches them all. They are read by a scalar
   * subquery per key, a shape that can only be an index probe (as a join the planner may hash the
   * whole table for every batch). A row that a concurrent writer inserts is waited for by the insert
   * and seen by the read, which has a later snapshot; another round covers the unexpected.
   */
  private async findOrCreate<R>(
    keys: string[],
    params: (keys: string[]) => unknown[],
    keyOf: (row: R) => string,
    sql: { insert: string; read: string },
  ): Promise<R[]> {
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
