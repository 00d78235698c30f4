import { z } from 'zod';
import { trackViewSchema } from './track.schema.js';

// The popular fallback pages through the catalogue search, which serves at most 50 per page.
const MAX_RECOMMENDATIONS = 50;

export const recommendationsQuerySchema = z.strictObject({
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(MAX_RECOMMENDATIONS, `must be at most ${MAX_RECOMMENDATIONS}`)
    .default(20),
});
export type RecommendationsQuery = z.output<typeof recommendationsQuerySchema>;

export const FALLBACK_STRATEGY = 'fallback_popular';

export const recommendationsViewSchema = z
  .object({
    strategy: z
      .string()
      .describe(`"personalised", "popular" (not enough history yet), or "${FALLBACK_STRATEGY}" (recommendations degraded)`),
    tracks: z.array(
      z.object({
        track: trackViewSchema,
        score: z.number(),
        reason: z.string().describe('Why this track, e.g. "co_played", "shared_attributes", "popular"'),
      }),
    ),
  })
  .meta({ id: 'Recommendations' });
export type RecommendationsView = z.output<typeof recommendationsViewSchema>;
