import { CreateRecommendationSchema1763827200000 } from './1763827200000-create-recommendation-schema.js';

/** Every migration, oldest first. Append only: a migration that has landed is never edited. */
export const migrations = [CreateRecommendationSchema1763827200000];
