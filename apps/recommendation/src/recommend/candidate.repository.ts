import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TrackFeatures } from '../features/track-features.js';
import type { CoPlayCandidate, ListeningHistoryEntry, PlayedTrack } from './recommendation.js';

interface FeatureColumns {
  f_track_id: string | null;
  genres: string[] | null;
  moods: string[] | null;
  language: string | null;
  bpm: number | null;
  popularity: number | null;
}

const FEATURE_COLUMNS = 'f.track_id AS f_track_id, f.genres, f.moods, f.language, f.bpm, f.popularity';

/** Reads for recommendations: a user's history and the candidate tracks, from this service's own data. */
@Injectable()
export class CandidateRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** The user's `limit` most recently played or skipped tracks, newest first. */
  async history(userId: string, limit: number): Promise<ListeningHistoryEntry[]> {
    const rows: (FeatureColumns & {
      track_id: string;
      plays: number;
      skips: number;
      last_played_at: Date | null;
      last_event_at: Date;
    })[] = await this.db.query(
      `SELECT s.track_id, s.plays, s.skips, s.last_played_at, s.last_event_at, ${FEATURE_COLUMNS}
       FROM user_track_stats s LEFT JOIN track_features f ON f.track_id = s.track_id
       WHERE s.user_id = $1
       ORDER BY s.last_event_at DESC, s.track_id
       LIMIT $2`,
      [userId, limit],
    );
    return rows.map((row) => ({
      trackId: row.track_id,
      plays: row.plays,
      skips: row.skips,
      lastPlayedAt: row.last_played_at,
      lastEventAt: row.last_event_at,
      features: toFeatures(row),
    }));
  }

  /** Tracks co-played with any of `seedIds`, by summed co-play count, leaving out `excluding`. */
  async coPlayed(seedIds: readonly string[], excluding: readonly string[], limit: number): Promise<CoPlayCandidate[]> {
    if (seedIds.length === 0) return [];
    const rows: (FeatureColumns & { track_id: string; count: number })[] = await this.db.query(
      `SELECT c.track_id, c.count, ${FEATURE_COLUMNS}
       FROM (
         SELECT track_b AS track_id, sum(count)::int AS count FROM co_plays
         WHERE track_a = ANY($1::uuid[]) AND track_b <> ALL($2::uuid[])
         GROUP BY track_b
         ORDER BY count DESC, track_b
         LIMIT $3
       ) AS c LEFT JOIN track_features f ON f.track_id = c.track_id
       ORDER BY c.count DESC, c.track_id`,
      [seedIds, excluding, limit],
    );
    return rows.map((row) => ({ trackId: row.track_id, count: row.count, features: toFeatures(row) }));
  }

  /** The most popular tracks having any of `genres` or `moods`, leaving out `excluding`. */
  async withAttributes(
    genres: readonly string[],
    moods: readonly string[],
    excluding: readonly string[],
    limit: number,
  ): Promise<TrackFeatures[]> {
    if (genres.length === 0 && moods.length === 0) return [];
    const rows: FeatureColumns[] = await this.db.query(
      `SELECT ${FEATURE_COLUMNS} FROM track_features f
       WHERE (f.genres && $1::text[] OR f.moods && $2::text[]) AND f.track_id <> ALL($3::uuid[])
       ORDER BY f.popularity DESC, f.track_id
       LIMIT $4`,
      [genres, moods, excluding, limit],
    );
    return rows.flatMap((row) => toFeatures(row) ?? []);
  }

  /** The most played tracks among every listener here, leaving out `excluding`. */
  async mostPlayed(excluding: readonly string[], limit: number): Promise<PlayedTrack[]> {
    const rows: { track_id: string; plays: string }[] = await this.db.query(
      `SELECT track_id, plays FROM track_popularity
       WHERE track_id <> ALL($1::uuid[])
       ORDER BY plays DESC, track_id
       LIMIT $2`,
      [excluding, limit],
    );
    // bigint arrives as a string.
    return rows.map((row) => ({ trackId: row.track_id, plays: Number(row.plays) }));
  }
}

function toFeatures(row: FeatureColumns): TrackFeatures | undefined {
  if (row.f_track_id === null) return undefined;
  return {
    trackId: row.f_track_id,
    genres: row.genres ?? [],
    moods: row.moods ?? [],
    language: row.language ?? '',
    bpm: row.bpm ?? 0,
    popularity: row.popularity ?? 0,
  };
}
