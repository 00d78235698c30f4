/** The attribute vocabulary: every term and numeric range a track may carry and a filter may name. */
export const GENRES = [
  'pop',
  'rock',
  'hip-hop',
  'electronic',
  'jazz',
  'classical',
  'r&b',
  'folk',
  'metal',
  'ambient',
  'mandopop',
  'j-pop',
  'k-pop',
  'latin',
  'country',
  'blues',
  'soul',
  'funk',
  'reggae',
  'punk',
  'indie',
  'house',
  'techno',
  'soundtrack',
  'world',
  'gospel',
  'disco',
  'lo-fi',
  'city-pop',
  'afrobeats',
] as const;
export const MOODS = [
  'happy',
  'romantic',
  'uplifting',
  'energetic',
  'angry',
  'confident',
  'dark',
  'euphoric',
  'relaxed',
  'melancholic',
  'calm',
  'dreamy',
  'sad',
  'nostalgic',
  'playful',
  'epic',
  'tense',
  'peaceful',
] as const;
export const LANGUAGES = [
  'en',
  'es',
  'fr',
  'de',
  'it',
  'pt',
  'nl',
  'sv',
  'pl',
  'ru',
  'tr',
  'ar',
  'hi',
  'zh',
  'ja',
  'ko',
  'id',
  'th',
  'vi',
  'yo',
  'sw',
] as const;
export const KEYS = ['c', 'c#', 'd', 'd#', 'e', 'f', 'f#', 'g', 'g#', 'a', 'a#', 'b'] as const;
export const MODES = ['major', 'minor'] as const;
export const VOCAL_TYPES = ['male', 'female', 'mixed', 'instrumental', 'choir'] as const;
export const TIERS = ['free', 'premium'] as const;

export const RANGES = {
  bpm: { min: 1, max: 400 },
  energy: { min: 0, max: 1 },
  valence: { min: 0, max: 1 },
  danceability: { min: 0, max: 1 },
  popularity: { min: 0, max: 100 },
  year: { min: 1900, max: 2100 },
} as const;

/** Tags are an open vocabulary with a fixed shape. */
export const TAG_PATTERN = /^[a-z0-9][a-z0-9-]{0,29}$/;
export const MAX_TAGS = 10;
/** Width of the BPM buckets that BPM facets count and BPM range filters walk. */
export const BPM_BUCKET = 10;
/** Width of the year buckets (decades) that year range filters walk. */
export const YEAR_BUCKET = 10;

export interface AttributeSpec {
  name: string;
  type: 'terms' | 'term_list' | 'integer' | 'number';
  values: readonly string[];
  min: number;
  max: number;
}

export const ATTRIBUTE_SPECS: readonly AttributeSpec[] = [
  { name: 'genres', type: 'term_list', values: GENRES, min: 1, max: 3 },
  { name: 'moods', type: 'term_list', values: MOODS, min: 0, max: 4 },
  { name: 'language', type: 'terms', values: LANGUAGES, min: 0, max: 0 },
  { name: 'key', type: 'terms', values: KEYS, min: 0, max: 0 },
  { name: 'mode', type: 'terms', values: MODES, min: 0, max: 0 },
  { name: 'vocal_type', type: 'terms', values: VOCAL_TYPES, min: 0, max: 0 },
  { name: 'tags', type: 'term_list', values: [], min: 0, max: MAX_TAGS },
  { name: 'bpm', type: 'integer', values: [], ...RANGES.bpm },
  { name: 'energy', type: 'number', values: [], ...RANGES.energy },
  { name: 'valence', type: 'number', values: [], ...RANGES.valence },
  { name: 'danceability', type: 'number', values: [], ...RANGES.danceability },
  { name: 'popularity', type: 'integer', values: [], ...RANGES.popularity },
  { name: 'year', type: 'integer', values: [], ...RANGES.year },
];
