import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { StatementRunner } from '../database/statement.runner.js';
import type { Album, Artist, Track } from './track.js';

export interface TrackRow {
  id: string;
  title: string;
  artist_name: string;
  album_title: string;
  duration_ms: number;
  isrc: string;
  release_year: number;
  release_date: string;
  popularity: number;
  explicit: boolean;
  attributes: Record<string, unknown>;
  artist_id: string;
  album_id: string;
  regions: string[];
  tier: string;
  audio_ref: string;
  version: number;
}

/** The columns every track read selects, qualified with `t.`. */
export const TRACK_COLUMNS =
  "t.id, t.title, t.artist_name, t.album_title, t.duration_ms, t.isrc, t.release_year, to_char(t.release_date, 'YYYY-MM-DD') AS release_date, " +
  't.popularity, t.explicit, t.attributes, t.artist_id, t.album_id, t.regions, t.tier, t.audio_ref, t.version';

@Injectable()
export class TrackRepository {
  constructor(
    @Inject(DataSource) private readonly db: DataSource,
    @Inject(StatementRunner) private readonly statements: StatementRunner,
  ) {}

  async findById(id: string): Promise<Track | undefined> {
    const rows: TrackRow[] = await this.db.query(`SELECT ${TRACK_COLUMNS} FROM tracks t WHERE t.id = $1`, [id]);
    return rows[0] && toTrack(rows[0]);
  }

  async findByIds(ids: readonly string[]): Promise<Track[]> {
    if (ids.length === 0) return [];
    const rows: TrackRow[] = await this.db.query(`SELECT ${TRACK_COLUMNS} FROM tracks t WHERE t.id = ANY($1::uuid[])`, [ids]);
    return rows.map(toTrack);
  }

  async findArtist(id: string, signal?: AbortSignal): Promise<Artist | undefined> {
    const rows = await this.statements.query<{ id: string; name: string; track_count: number }>(
      'SELECT a.id, a.name, (SELECT count(*)::int FROM tracks t WHERE t.artist_id = a.id) AS track_count FROM artists a WHERE a.id = $1',
      [id],
      signal,
    );
    return rows[0] && { id: rows[0].id, name: rows[0].name, trackCount: rows[0].track_count };
  }

  /** An artist's tracks, most popular first, after the (popularity, doc) position if given, each with its doc for the next cursor. */
  async artistTracks(
    artistId: string,
    limit: number,
    after?: { popularity: number; doc: number },
    signal?: AbortSignal,
  ): Promise<{ track: Track; doc: number }[]> {
    const params: unknown[] = [artistId, limit];
    let where = 't.artist_id = $1';
    if (after) {
      params.push(after.popularity, after.doc);
      where += ' AND (t.popularity, t.doc) < ($3, $4)';
    }
    const rows = await this.statements.query<TrackRow & { doc: number }>(
      `SELECT ${TRACK_COLUMNS}, t.doc FROM tracks t WHERE ${where} ORDER BY t.popularity DESC, t.doc DESC LIMIT $2`,
      params,
      signal,
    );
    return rows.map((row) => ({ track: toTrack(row), doc: row.doc }));
  }

  async artistAlbums(artistId: string, limit: number, signal?: AbortSignal): Promise<Album[]> {
    const rows = await this.statements.query<AlbumRow>(
      `SELECT al.id, al.title, al.artist_id, a.name AS artist_name, to_char(al.release_date, 'YYYY-MM-DD') AS release_date
       FROM albums al JOIN artists a ON a.id = al.artist_id WHERE al.artist_id = $1 ORDER BY al.release_date DESC NULLS LAST, al.id LIMIT $2`,
      [artistId, limit],
      signal,
    );
    return rows.map(toAlbum);
  }

  async findAlbum(id: string, signal?: AbortSignal): Promise<Album | undefined> {
    const rows = await this.statements.query<AlbumRow>(
      `SELECT al.id, al.title, al.artist_id, a.name AS artist_name, to_char(al.release_date, 'YYYY-MM-DD') AS release_date
       FROM albums al JOIN artists a ON a.id = al.artist_id WHERE al.id = $1`,
      [id],
      signal,
    );
    return rows[0] && toAlbum(rows[0]);
  }

  async albumTracks(albumId: string, limit: number, signal?: AbortSignal): Promise<Track[]> {
    const rows = await this.statements.query<TrackRow>(
      `SELECT ${TRACK_COLUMNS} FROM tracks t WHERE t.album_id = $1 ORDER BY t.popularity DESC, t.id DESC LIMIT $2`,
      [albumId, limit],
      signal,
    );
    return rows.map(toTrack);
  }

  async count(): Promise<number> {
    const rows: { count: string }[] = await this.db.query('SELECT count(*) FROM tracks');
    return Number(rows[0]?.count ?? 0);
  }
}

interface AlbumRow {
  id: string;
  title: string;
  artist_id: string;
  artist_name: string;
  release_date: string | null;
}

function toAlbum(row: AlbumRow): Album {
  return { id: row.id, title: row.title, artistId: row.artist_id, artistName: row.artist_name, releaseDate: row.release_date ?? '' };
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export function toTrack(row: TrackRow): Track {
  const a = row.attributes;
  return {
    id: row.id,
    title: row.title,
    artistName: row.artist_name,
    albumTitle: row.album_title,
    durationMs: row.duration_ms,
    isrc: row.isrc,
    releaseYear: row.release_year,
    releaseDate: row.release_date,
    popularity: row.popularity,
    explicit: row.explicit,
    attributes: {
      genres: list(a.genres),
      moods: list(a.moods),
      language: str(a.language),
      bpm: num(a.bpm),
      energy: num(a.energy),
      valence: num(a.valence),
      danceability: num(a.danceability),
      tags: list(a.tags),
      key: str(a.key),
      mode: str(a.mode),
      vocalType: str(a.vocal_type),
    },
    artistId: row.artist_id,
    albumId: row.album_id,
    regions: row.regions,
    tier: row.tier,
    audioRef: row.audio_ref,
    version: row.version,
  };
}
