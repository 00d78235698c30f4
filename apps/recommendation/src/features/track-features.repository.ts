import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TrackFeatures } from './track-features.js';

@Injectable()
export class TrackFeaturesRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /** The ids among `trackIds` with no features copied yet. */
  async missingIds(trackIds: readonly string[]): Promise<string[]> {
    if (trackIds.length === 0) return [];
    const rows: { id: string }[] = await this.db.query(
      `SELECT id FROM unnest($1::uuid[]) AS ids(id)
       WHERE NOT EXISTS (SELECT 1 FROM track_features f WHERE f.track_id = ids.id)`,
      [[...new Set(trackIds)]],
    );
    return rows.map((row) => row.id);
  }

  /** Inserts or refreshes features; rows that did not change are not rewritten. */
  async upsert(features: readonly TrackFeatures[]): Promise<void> {
    const unique = [...new Map(features.map((f) => [f.trackId, f])).values()];
    if (unique.length === 0) return;
    // Sorted by key so concurrent upserts take row locks in the same order and cannot deadlock.
    unique.sort((a, b) => (a.trackId < b.trackId ? -1 : a.trackId > b.trackId ? 1 : 0));
    await this.db.query(
      `INSERT INTO track_features (track_id, genres, moods, language, bpm, popularity, updated_at)
       SELECT r.track_id, r.genres, r.moods, r.language, r.bpm, r.popularity, now()
       FROM jsonb_to_recordset($1::jsonb) AS r(track_id uuid, genres text[], moods text[], language text, bpm int, popularity smallint)
       ON CONFLICT (track_id) DO UPDATE SET
         genres = EXCLUDED.genres, moods = EXCLUDED.moods, language = EXCLUDED.language,
         bpm = EXCLUDED.bpm, popularity = EXCLUDED.popularity, updated_at = now()
       -- Search results are stored on every recommendation: skip the write (and its WAL) when nothing changed.
       WHERE (track_features.genres, track_features.moods, track_features.language, track_features.bpm, track_features.popularity)
         IS DISTINCT FROM (EXCLUDED.genres, EXCLUDED.moods, EXCLUDED.language, EXCLUDED.bpm, EXCLUDED.popularity)`,
      [
        JSON.stringify(
          unique.map((f) => ({
            track_id: f.trackId,
            genres: f.genres,
            moods: f.moods,
            language: f.language,
            bpm: f.bpm,
            popularity: f.popularity,
          })),
        ),
      ],
    );
  }
}
