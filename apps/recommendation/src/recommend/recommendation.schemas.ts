import { z } from 'zod';

const MAX_RECOMMENDATIONS = 100;
const DEFAULT_RECOMMENDATIONS = 20;

export const getRecommendationsSchema = z.object({
  userId: z.uuid({ message: 'must be a user id (UUID)' }),
  // 0 is proto3's "not set".
  limit: z
    .number()
    .int()
    .min(0, 'must not be negative')
    .max(MAX_RECOMMENDATIONS, `at most ${MAX_RECOMMENDATIONS}`)
    .transform((limit) => limit || DEFAULT_RECOMMENDATIONS),
});
