import { z } from 'zod';
import { GENRES, KEYS, LANGUAGES, MODES, MOODS, RANGES, TAG_PATTERN, VOCAL_TYPES } from '../catalogue/attribute-vocabulary.js';

export const MAX_BATCH = 100;
export const MAX_PAGE = 50;
export const DEFAULT_PAGE = 20;
export const FACETS = ['genre', 'mood', 'language', 'bpm', 'tag', 'key', 'mode', 'vocal_type'] as const;
export type FacetName = (typeof FACETS)[number];

const trackId = z.uuid({ message: 'must be a track id (UUID)' });
export const entityId = (what: string) => z.uuid({ message: `must be ${what} id (UUID)` });

/** A vocabulary term as a filter, or '' (proto3's "not set"). */
const term = (values: readonly string[], what: string) =>
  z
    .string()
    .max(40, 'at most 40 characters')
    .refine((v) => v === '' || values.includes(v), { message: `unknown ${what}; see GET /v1/attributes` });
const terms = (values: readonly string[], what: string) =>
  z.array(term(values, what).refine((v) => v !== '', 'must not be empty')).max(5, `at most 5 ${what} values`);
const range = (name: keyof typeof RANGES, integer: boolean) => {
  const base = z
    .number()
    .min(RANGES[name].min, `must be at least ${RANGES[name].min}`)
    .max(RANGES[name].max, `must be at most ${RANGES[name].max}`);
  return (integer ? base.int('must be a whole number') : base).optional();
};
const ordered = (lo: string, hi: string) => (r: Record<string, unknown>) =>
  r[lo] === undefined || r[hi] === undefined || (r[lo] as number) <= (r[hi] as number);

export const getTrackSchema = z.object({ trackId });

export const batchGetTracksSchema = z.object({
  trackIds: z.array(trackId).min(1, 'at least one id is required').max(MAX_BATCH, `at most ${MAX_BATCH} ids`),
});

export const searchTracksSchema = z
  .object({
    query: z.string().max(200, 'at most 200 characters'),
    genre: term(GENRES, 'genre'),
    mood: term(MOODS, 'mood'),
    language: term(LANGUAGES, 'language'),
    genres: terms(GENRES, 'genre'),
    moods: terms(MOODS, 'mood'),
    tags: z.array(z.string().regex(TAG_PATTERN, 'must be a lower-case tag, e.g. "road-trip"')).max(5, 'at most 5 tags'),
    key: term(KEYS, 'key'),
    mode: term(MODES, 'mode'),
    vocalType: term(VOCAL_TYPES, 'vocal type'),
    minBpm: range('bpm', true),
    maxBpm: range('bpm', true),
    minYear: range('year', true),
    maxYear: range('year', true),
    minEnergy: range('energy', false),
    maxEnergy: range('energy', false),
    explicit: z.boolean().optional(),
    sort: z.enum(['', 'relevance', 'popularity', 'release_date'], { error: 'must be relevance, popularity or release_date' }),
    facets: z.array(z.enum(FACETS, { error: `must be one of ${FACETS.join(', ')}` })).max(FACETS.length),
    limit: z.number().int().min(0).max(MAX_PAGE, `at most ${MAX_PAGE}`),
    cursor: z.string().max(200, 'at most 200 characters'),
  })
  .refine(ordered('minBpm', 'maxBpm'), { message: 'must not be greater than maxBpm', path: ['minBpm'] })
  .refine(ordered('minYear', 'maxYear'), { message: 'must not be greater than maxYear', path: ['minYear'] })
  .refine(ordered('minEnergy', 'maxEnergy'), { message: 'must not be greater than maxEnergy', path: ['minEnergy'] });

export type SearchTracksInput = z.output<typeof searchTracksSchema>;

export const getArtistSchema = z.object({
  artistId: entityId('an artist'),
  limit: z.number().int().min(0).max(MAX_PAGE, `at most ${MAX_PAGE}`),
  cursor: z.string().max(200, 'at most 200 characters'),
});

export const getAlbumSchema = z.object({ albumId: entityId('an album') });
