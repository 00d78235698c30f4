import type { metadataV1 } from '@overture/contracts';
import { z } from 'zod';

export const trackViewSchema = z
  .object({
    id: z.uuid(),
    title: z.string(),
    artist_name: z.string(),
    album_title: z.string(),
    duration_ms: z.number().int(),
    isrc: z.string().describe('International Standard Recording Code'),
    release_year: z.number().int(),
    popularity: z.number().int().min(0).max(100),
    explicit: z.boolean(),
    attributes: z.object({
      genres: z.array(z.string()),
      moods: z.array(z.string()),
      language: z.string().describe('ISO 639-1 code, e.g. "en"'),
      bpm: z.number().int(),
      energy: z.number().min(0).max(1),
      valence: z.number().min(0).max(1),
      danceability: z.number().min(0).max(1),
      tags: z.array(z.string()),
    }),
  })
  .meta({ id: 'Track' });
export type TrackView = z.output<typeof trackViewSchema>;

export function toTrackView(track: metadataV1.Track): TrackView {
  const a = track.attributes;
  return {
    id: track.trackId,
    title: track.title,
    artist_name: track.artistName,
    album_title: track.albumTitle,
    duration_ms: track.durationMs,
    isrc: track.isrc,
    release_year: track.releaseYear,
    popularity: track.popularity,
    explicit: track.explicit,
    attributes: {
      genres: a?.genres ?? [],
      moods: a?.moods ?? [],
      language: a?.language ?? '',
      bpm: a?.bpm ?? 0,
      energy: a?.energy ?? 0,
      valence: a?.valence ?? 0,
      danceability: a?.danceability ?? 0,
      tags: a?.tags ?? [],
    },
  };
}
