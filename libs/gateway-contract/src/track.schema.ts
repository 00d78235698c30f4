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
    release_date: z.string().optional().describe('ISO 8601 date, e.g. "2019-05-17"'),
    popularity: z.number().int().min(0).max(100),
    explicit: z.boolean(),
    artist_id: z.uuid().optional(),
    album_id: z.uuid().optional(),
    regions: z.array(z.string()).optional().describe('ISO 3166-1 alpha-2 codes where it may be played; empty means everywhere'),
    tier: z.enum(['free', 'premium']).optional().describe('Lowest subscription tier that may play it'),
    version: z.number().int().optional().describe('Send back in If-Match (quoted) to update or delete'),
    attributes: z.object({
      genres: z.array(z.string()),
      moods: z.array(z.string()),
      language: z.string().describe('ISO 639-1 code, e.g. "en"'),
      bpm: z.number().int(),
      energy: z.number().min(0).max(1),
      valence: z.number().min(0).max(1),
      danceability: z.number().min(0).max(1),
      tags: z.array(z.string()),
      key: z.string().optional(),
      mode: z.string().optional(),
      vocal_type: z.string().optional(),
    }),
  })
  .meta({ id: 'Track' });
export type TrackView = z.output<typeof trackViewSchema>;
