import { z } from 'zod';
import { trackViewSchema } from './track.schema.js';

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

// Genre and mood are catalogue vocabulary terms: lower case, e.g. "hip-hop", "chill". Whether a term is
// in the vocabulary (GET /v1/attributes) is checked by the catalogue service.
const vocabularyTerm = z
  .string()
  .max(40, 'at most 40 characters')
  .regex(/^[a-z0-9][a-z0-9&' #-]*$/, 'must be a lower-case term, e.g. "hip-hop"');
const termList = (what: string) =>
  z
    .string()
    .describe(`Comma-separated ${what}; every one must match.`)
    .transform((v) =>
      v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(vocabularyTerm).max(5, 'at most 5 values'));
const number = (min: number, max: number, integer: boolean) => {
  const base = z.coerce.number({ error: 'must be a number' }).min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);
  return integer ? base.int('must be a whole number') : base;
};
const bpm = number(1, 400, true);
const year = number(1900, 2100, true);
const unit = number(0, 1, false);
const FACETS = ['genre', 'mood', 'language', 'bpm', 'tag', 'key', 'mode', 'vocal_type'] as const;

const ordered = (lo: string, hi: string) => (q: Record<string, unknown>) =>
  q[lo] === undefined || q[hi] === undefined || (q[lo] as number) <= (q[hi] as number);

export const searchQuerySchema = z
  .strictObject({
    q: z
      .string()
      .max(200, 'at most 200 characters')
      .default('')
      .describe('Words to find in title, artist or album (prefix and fuzzy; CJK too).'),
    genre: vocabularyTerm.optional(),
    mood: vocabularyTerm.optional(),
    genres: termList('genres').optional(),
    moods: termList('moods').optional(),
    tags: termList('tags').optional(),
    language: z
      .string()
      .regex(/^[a-z]{2}$/, 'must be an ISO 639-1 code, e.g. "en"')
      .optional(),
    key: vocabularyTerm.optional(),
    mode: z.enum(['major', 'minor'], { error: 'must be major or minor' }).optional(),
    vocal_type: vocabularyTerm.optional(),
    explicit: z
      .enum(['true', 'false'], { error: 'must be true or false' })
      .transform((v) => v === 'true')
      .optional(),
    min_bpm: bpm.optional(),
    max_bpm: bpm.optional(),
    min_year: year.optional(),
    max_year: year.optional(),
    min_energy: unit.optional(),
    max_energy: unit.optional(),
    sort: z
      .enum(['relevance', 'popularity', 'release_date'], { error: 'must be relevance, popularity or release_date' })
      .optional()
      .describe('Default: relevance with text, popularity without.'),
    facets: z
      .string()
      .describe(`Comma-separated facets to count over the matches: ${FACETS.join(', ')}.`)
      .transform((v) =>
        v
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.enum(FACETS, { error: `must be among ${FACETS.join(', ')}` })).max(FACETS.length))
      .optional(),
    limit: z.coerce
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(MAX_SEARCH_LIMIT, `must be at most ${MAX_SEARCH_LIMIT}`)
      .default(DEFAULT_SEARCH_LIMIT),
    cursor: z.string().max(200, 'at most 200 characters').optional().describe('next_cursor of the previous page.'),
  })
  .refine(ordered('min_bpm', 'max_bpm'), { message: 'must not be greater than max_bpm', path: ['min_bpm'] })
  .refine(ordered('min_year', 'max_year'), { message: 'must not be greater than max_year', path: ['min_year'] })
  .refine(ordered('min_energy', 'max_energy'), { message: 'must not be greater than max_energy', path: ['min_energy'] });
export type SearchQuery = z.output<typeof searchQuerySchema>;

export const tracksViewSchema = z
  .object({
    tracks: z.array(trackViewSchema).describe('The tracks found, in the order asked.'),
    missing_ids: z.array(z.string()).describe('Ids the catalogue does not have.'),
  })
  .meta({ id: 'Tracks' });
export type TracksView = z.output<typeof tracksViewSchema>;

const facetViewSchema = z
  .object({
    name: z.string(),
    values: z.array(z.object({ value: z.string(), count: z.number().int() })).describe('Most common first.'),
    exact: z.boolean().describe('false when counted on a uniform sample of the matches'),
    error_margin: z.number().int().describe('For sampled counts: the approximate 95 % error of each count; 0 when exact.'),
  })
  .meta({ id: 'Facet' });

export const searchViewSchema = z
  .object({
    tracks: z.array(trackViewSchema).describe('In the order asked (sort).'),
    next_cursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last page.'),
    partial: z
      .boolean()
      .describe(
        'true when the page stopped at the per-request scan budget before filling (rare combinations): follow next_cursor for more.',
      ),
    facets: z.array(facetViewSchema).describe('Counts over all matches, for the facets asked.'),
  })
  .meta({ id: 'SearchResults' });
export type SearchView = z.output<typeof searchViewSchema>;

export const attributesViewSchema = z
  .object({
    attributes: z.array(
      z.object({
        name: z.string(),
        type: z.enum(['terms', 'term_list', 'integer', 'number']),
        values: z.array(z.string()).describe('The vocabulary; empty for numbers and open vocabularies (tags).'),
        min: z.number(),
        max: z.number(),
      }),
    ),
  })
  .meta({ id: 'Attributes' });
export type AttributesView = z.output<typeof attributesViewSchema>;

export const entityParamsSchema = z.strictObject({ id: z.uuid('must be an id (UUID)') });
export type EntityParams = z.output<typeof entityParamsSchema>;

export const pageQuerySchema = z.strictObject({
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(MAX_SEARCH_LIMIT, `must be at most ${MAX_SEARCH_LIMIT}`)
    .default(DEFAULT_SEARCH_LIMIT),
  cursor: z.string().max(200, 'at most 200 characters').optional(),
});
export type PageQuery = z.output<typeof pageQuerySchema>;

export const albumViewSchema = z
  .object({ id: z.uuid(), title: z.string(), artist_id: z.uuid(), artist_name: z.string(), release_date: z.string().nullable() })
  .meta({ id: 'Album' });

export const artistViewSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    track_count: z.number().int(),
    albums: z.array(albumViewSchema).describe('Newest first (first page only).'),
    tracks: z.array(trackViewSchema).describe('Most popular first.'),
    next_cursor: z.string().nullable(),
  })
  .meta({ id: 'ArtistPage' });
export type ArtistView = z.output<typeof artistViewSchema>;

export type AlbumView = z.output<typeof albumViewSchema>;

export const albumPageViewSchema = z.object({ album: albumViewSchema, tracks: z.array(trackViewSchema) }).meta({ id: 'AlbumPage' });
export type AlbumPageView = z.output<typeof albumPageViewSchema>;

/** A track as curators write it; the catalogue service checks every value against the vocabulary. */
export const trackBodySchema = z.strictObject({
  title: z.string(),
  artist_name: z.string(),
  album_title: z.string(),
  duration_ms: z.number().int(),
  isrc: z.string(),
  release_date: z.string(),
  popularity: z.number().int(),
  explicit: z.boolean().default(false),
  regions: z.array(z.string()).max(250).default([]),
  tier: z.string().default('free'),
  audio_ref: z.string().default(''),
  attributes: z.strictObject({
    genres: z.array(z.string()).max(10),
    moods: z.array(z.string()).max(10).default([]),
    language: z.string(),
    bpm: z.number().int(),
    energy: z.number(),
    valence: z.number(),
    danceability: z.number(),
    tags: z.array(z.string()).max(20).default([]),
    key: z.string().default(''),
    mode: z.string().default(''),
    vocal_type: z.string().default(''),
  }),
});
export type TrackBody = z.output<typeof trackBodySchema>;

export const trackVersionSchema = z
  .string({ error: 'is required: the track version in quotes, e.g. "3", from the track\'s version' })
  .regex(/^"\d{1,9}"$/, 'must be the track version in quotes, e.g. "3"')
  .transform((value) => Number(value.slice(1, -1)))
  .describe('The version the change is based on; 409 VERSION_CONFLICT when the track has changed since.');
