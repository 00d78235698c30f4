import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { NewTrack, Track, TrackAttributes, TrackCursor, TrackFilter } from './track.js';

interface TrackRow {
  id: string;
  title: string;
  artist_name: string;
  album_title: string;
  duration_ms: number;
  isrc: string;
  release_year: number;
  popularity: number;
  explicit: boolean;
  attributes: Partial<TrackAttributes>;
}

const COLUMNS = 'id, title, artist_name, album_title, duration_ms, isrc, release_year, popularity, explicit, attributes';

/** Escapes LIKE wildcards so user text matches literally. */
function likeLiteral(word: string): string {
  return `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

@Injectable()
export class TrackRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async findById(id: string): Promise<Track | undefined> {
    const rows: TrackRow[] = await this.db.query(`SELECT ${COLUMNS} FROM tracks WHERE id = $1`, [id]);
    return rows[0] && toTrack(rows[0]);
  }

  async findByIds(ids: readonly string[]): Promise<Track[]> {
    if (ids.length === 0) return [];
    const rows: TrackRow[] = await this.db.query(`SELECT ${COLUMNS} FROM tracks WHERE id = ANY($1::uuid[])`, [ids]);
    return rows.map(toTrack);
  }

  /** Tracks matching the filter in (popularity desc, id) order, after the cursor if given. */
  async search(filter: TrackFilter, limit: number, after?: TrackCursor): Promise<Track[]> {
    const params: unknown[] = [];
    const where: string[] = [];
    const param = (value: unknown): string => {
      params.push(value);
      return `$${params.length}`;
    };
    for (const word of filter.words) where.push(`search_text LIKE ${param(likeLiteral(word))}`);
    const containment: Record<string, unknown> = {};
    if (filter.genre) containment.genres = [filter.genre];
    if (filter.mood) containment.moods = [filter.mood];
    if (filter.language) containment.language = filter.language;
    if (Object.keys(containment).length > 0) where.push(`attributes @> ${param(JSON.stringify(containment))}::jsonb`);
    if (filter.minBpm !== undefined) where.push(`bpm >= ${param(filter.minBpm)}`);
    if (filter.maxBpm !== undefined) where.push(`bpm <= ${param(filter.maxBpm)}`);
    if (after) {
      const p = param(after.popularity);
      where.push(`(popularity < ${p} OR (popularity = ${p} AND id > ${param(after.id)}::uuid))`);
    }
    const sql =
      `SELECT ${COLUMNS} FROM tracks` +
      (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
      ` ORDER BY popularity DESC, id LIMIT ${param(limit)}`;
    const rows: TrackRow[] = await this.db.query(sql, params);
    return rows.map(toTrack);
  }

  /** Inserts tracks, skipping any whose ISRC is already in the catalogue; returns how many were new. */
  async insertMany(tracks: readonly NewTrack[]): Promise<number> {
    if (tracks.length === 0) return 0;
    const rows = tracks.map((t) => ({
      title: t.title,
      artist_name: t.artistName,
      album_title: t.albumTitle,
      duration_ms: t.durationMs,
      isrc: t.isrc,
      release_year: t.releaseYear,
      popularity: t.popularity,
      explicit: t.explicit,
      attributes: t.attributes,
    }));
    const inserted: unknown[] = await this.db.query(
      `INSERT INTO tracks (title, artist_name, album_title, duration_ms, isrc, release_year, popularity, explicit, attributes)
       SELECT title, artist_name, album_title, duration_ms, isrc, release_year, popularity, explicit, attributes
       FROM jsonb_to_recordset($1::jsonb) AS r(title text, artist_name text, album_title text, duration_ms int,
         isrc text, release_year smallint, popularity smallint, explicit boolean, attributes jsonb)
       ON CONFLICT (isrc) DO NOTHING
       RETURNING id`,
      [JSON.stringify(rows)],
    );
    return inserted.length;
  }

  async count(): Promise<number> {
    const rows: { count: string }[] = await this.db.query('SELECT count(*) FROM tracks');
    return Number(rows[0]?.count ?? 0);
  }
}

function toTrack(row: TrackRow): Track {
  const a = row.attributes;
  return {
    id: row.id,
    title: row.title,
    artistName: row.artist_name,
    albumTitle: row.album_title,
    durationMs: row.duration_ms,
    isrc: row.isrc,
    releaseYear: row.release_year,
    popularity: row.popularity,
    explicit: row.explicit,
    attributes: {
      genres: a.genres ?? [],
      moods: a.moods ?? [],
      language: a.language ?? '',
      bpm: a.bpm ?? 0,
      energy: a.energy ?? 0,
      valence: a.valence ?? 0,
      danceability: a.danceability ?? 0,
      tags: a.tags ?? [],
    },
  };
}
