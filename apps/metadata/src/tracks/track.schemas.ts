import { z } from 'zod';

export const MAX_BATCH = 100;
export const MAX_PAGE = 50;
export const DEFAULT_PAGE = 20;

const trackId = z.uuid({ message: 'must be a track id (UUID)' });
const vocabularyTerm = z
  .string()
  .max(40)
  .regex(/^[a-z0-9][a-z0-9&' -]*$/, 'must be a lower-case vocabulary term, e.g. "hip-hop"');
const bpm = z.number().int().min(1).max(400);

export const getTrackSchema = z.object({ trackId });

export const batchGetTracksSchema = z.object({
  trackIds: z.array(trackId).min(1, 'at least one id is required').max(MAX_BATCH, `at most ${MAX_BATCH} ids`),
});

export const searchTracksSchema = z
  .object({
    query: z.string().max(200, 'at most 200 characters'),
    // Empty strings are proto3's "not set".
    genre: vocabularyTerm.or(z.literal('')),
    mood: vocabularyTerm.or(z.literal('')),
    language: z
      .string()
      .regex(/^[a-z]{2}$/, 'must be an ISO 639-1 code, e.g. "en"')
      .or(z.literal('')),
    minBpm: bpm.optional(),
    maxBpm: bpm.optional(),
    limit: z.number().int().min(0).max(MAX_PAGE, `at most ${MAX_PAGE}`),
    cursor: z.string().max(200),
  })
  .refine((r) => r.minBpm === undefined || r.maxBpm === undefined || r.minBpm <= r.maxBpm, {
    message: 'must not be greater than maxBpm',
    path: ['minBpm'],
  });

export type SearchTracksInput = z.output<typeof searchTracksSchema>;
