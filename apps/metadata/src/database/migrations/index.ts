import { CreateTracks1763740800000 } from './1763740800000-create-tracks.js';
import { CatalogueAtScale1795277200000 } from './1795277200000-catalogue-at-scale.js';
import { WordTrigrams1795285200000 } from './1795285200000-word-trigrams.js';
import { IntegerPostings1795292400000 } from './1795292400000-integer-postings.js';
import { TermPairs1795300000000 } from './1795300000000-term-pairs.js';
import { PostingBits1795310000000 } from './1795310000000-posting-bits.js';
import { IdempotencyKeys1796500000000 } from './1796500000000-idempotency-keys.js';

/** Every migration, oldest first. Append only: a migration that has landed is never edited. */
export const migrations = [
  CreateTracks1763740800000,
  CatalogueAtScale1795277200000,
  WordTrigrams1795285200000,
  IntegerPostings1795292400000,
  TermPairs1795300000000,
  PostingBits1795310000000,
  IdempotencyKeys1796500000000,
];
