import { z } from 'zod';
import { trackViewSchema } from './track.view.js';

export const MAX_TRACK_IDS = 100;
const MAX_SEARCH_LIMIT = 50;
const DEFAULT_SEARCH_LIMIT = 20;

export const trackId = z.uuid('must be a track id (UUID)');

export const trackParamsSchema = z.strictObject({ id: trackId });
export type TrackParams = z.output<typeof trackParamsSchema>;

export const tracksQuerySchema = z.strictObject({
  ids: z
    .string()
    .describe(`Comma-separated track ids, at most ${MAX_TRACK_IDS}.`)
    .transform((ids) => ids.split(',').map((id) => id.trim()))
    .pipe(z.array(trackId).min(1, 'at least one id is required').max(MAX_TRACK_IDS, `at most ${MAX_TRACK_IDS} ids`)),
});
export type TracksQuery = z.output<typeof tracksQuerySchema>;

// Genre and mood are catalogue vocabulary terms: lower case, e.g. "hip-hop", "chill".
const vocabularyTerm = z
  .string()
  .max(40, 'at most 40 characters')
  .regex(/^[a-z0-9][a-z0-9&' -]*$/, 'must be a lower-case term, e.g. "hip-hop"');
const bpm = z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(400, 'must be at most 400');

export const searchQuerySchema = z
  .strictObject({
    q: z.string().max(200, 'at most 200 characters').default('').describe('Words to find in title, artist or album.'),
    genre: vocabularyTerm.optional(),
    mood: vocabularyTerm.optional(),
    language: z.string().regex(/^[a-z]{2}$/, 'must be an ISO 639-1 code, e.g. "en"').optional(),
    min_bpm: bpm.optional(),
    max_bpm: bpm.optional(),
    limit: z.coerce
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(MAX_SEARCH_LIMIT, `must be at most ${MAX_SEARCH_LIMIT}`)
      .default(DEFAULT_SEARCH_LIMIT),
    cursor: z.string().max(200, 'at most 200 characters').optional().describe('next_cursor of the previous page.'),
  })
  .refine((q) => q.min_bpm === undefined || q.max_bpm === undefined || q.min_bpm <= q.max_bpm, {
    message: 'must not be greater than max_bpm',
    path: ['min_bpm'],
  });
export type SearchQuery = z.output<typeof searchQuerySchema>;

export const tracksViewSchema = z
  .object({
    tracks: z.array(trackViewSchema).describe('The tracks found, in the order asked.'),
    missing_ids: z.array(z.string()).describe('Ids the catalogue does not have.'),
  })
  .meta({ id: 'Tracks' });
export type TracksView = z.output<typeof tracksViewSchema>;

export const searchViewSchema = z
  .object({
    tracks: z.array(trackViewSchema).describe('Most popular first.'),
    next_cursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last page.'),
  })
  .meta({ id: 'SearchResults' });
export type SearchView = z.output<typeof searchViewSchema>;
