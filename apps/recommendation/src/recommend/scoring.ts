import type { TrackFeatures } from '../features/track-features.js';
import type { CoPlayCandidate, ListeningHistoryEntry, PlayedTrack, Recommendation } from './recommendation.js';

// How much each signal counts in a score. Co-play is the strongest: it is what people actually did.
const SCORE_WEIGHTS = {
  coPlay: 1,
  attributes: 0.6,
  // A tie-breaker among otherwise equal tracks, never a reason on its own.
  popularity: 0.05,
} as const;

// The summed co-play count that earns half the co-play weight: evidence saturates, so a few shared
// listeners already count and a hit co-played by thousands cannot drown every other signal.
const CO_PLAY_HALF_WEIGHT_COUNT = 2;

// A skip counts against a track's attributes as much as a play counts for them.
const SKIP_WEIGHT = 1;

// Shares of genre, mood and language in the attribute match.
const ATTRIBUTE_SHARES = { genre: 0.5, mood: 0.3, language: 0.2 } as const;

/**
 * A user's liking of each attribute value, in [-1, 1]: the plays minus the skips of tracks having
 * it, over the user's whole weight. Negative values are disliked.
 */
export interface TasteProfile {
  genres: ReadonlyMap<string, number>;
  moods: ReadonlyMap<string, number>;
  languages: ReadonlyMap<string, number>;
}

export function buildTasteProfile(history: readonly ListeningHistoryEntry[]): TasteProfile {
  const genres = new Map<string, number>();
  const moods = new Map<string, number>();
  const languages = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, weight: number): void => void map.set(key, (map.get(key) ?? 0) + weight);
  let total = 0;
  for (const entry of history) {
    if (!entry.features) continue;
    const weight = entry.plays - SKIP_WEIGHT * entry.skips;
    if (weight === 0) continue;
    total += Math.abs(weight);
    for (const genre of new Set(entry.features.genres)) add(genres, genre, weight);
    for (const mood of new Set(entry.features.moods)) add(moods, mood, weight);
    if (entry.features.language) add(languages, entry.features.language, weight);
  }
  const normalise = (map: Map<string, number>): Map<string, number> =>
    new Map([...map].map(([key, weight]) => [key, total > 0 ? weight / total : 0]));
  return { genres: normalise(genres), moods: normalise(moods), languages: normalise(languages) };
}

/** The `count` best-liked values (liked only: a positive weight), best first. */
export function topLiked(weights: ReadonlyMap<string, number>, count: number): string[] {
  return [...weights]
    .filter(([, weight]) => weight > 0)
    .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
    .slice(0, count)
    .map(([key]) => key);
}

/** How well a track's attributes match the profile, in [-1, 1]. */
export function attributeMatch(profile: TasteProfile, features: TrackFeatures): number {
  const best = (weights: ReadonlyMap<string, number>, values: readonly string[]): number =>
    values.length === 0 ? 0 : Math.max(...values.map((value) => weights.get(value) ?? 0));
  return (
    ATTRIBUTE_SHARES.genre * best(profile.genres, features.genres) +
    ATTRIBUTE_SHARES.mood * best(profile.moods, features.moods) +
    ATTRIBUTE_SHARES.language * (profile.languages.get(features.language) ?? 0)
  );
}

export interface PersonalisedInput {
  profile: TasteProfile;
  coPlayed: readonly CoPlayCandidate[];
  /** Tracks found for their attributes (own copy and catalogue search), in any order, repeats allowed. */
  attributeCandidates: readonly TrackFeatures[];
  /** Tracks the user played or skipped recently: never recommended. */
  excluded: ReadonlySet<string>;
}

/**
 * Scores every candidate by co-play (saturating in the summed co-play count) plus attribute match,
 * with popularity as a tie-breaker; the reason is the larger of the two signals. Tracks with no
 * positive personal signal are left out. Best first, each track once.
 */
export function scorePersonalised(input: PersonalisedInput): Recommendation[] {
  const candidates = new Map<string, { coPlay: number; features: TrackFeatures | undefined }>();
  for (const candidate of input.coPlayed) {
    if (input.excluded.has(candidate.trackId) || candidate.count <= 0) continue;
    const seen = candidates.get(candidate.trackId);
    candidates.set(candidate.trackId, {
      coPlay: Math.max(seen?.coPlay ?? 0, candidate.count / (candidate.count + CO_PLAY_HALF_WEIGHT_COUNT)),
      features: seen?.features ?? candidate.features,
    });
  }
  for (const features of input.attributeCandidates) {
    if (input.excluded.has(features.trackId)) continue;
    const seen = candidates.get(features.trackId);
    candidates.set(features.trackId, { coPlay: seen?.coPlay ?? 0, features: seen?.features ?? features });
  }

  const scored: Recommendation[] = [];
  for (const [trackId, { coPlay, features }] of candidates) {
    const coPlayScore = SCORE_WEIGHTS.coPlay * coPlay;
    const attributeScore = features ? SCORE_WEIGHTS.attributes * attributeMatch(input.profile, features) : 0;
    if (coPlayScore <= 0 && attributeScore <= 0) continue;
    const score = coPlayScore + attributeScore + (features ? (SCORE_WEIGHTS.popularity * features.popularity) / 100 : 0);
    if (score <= 0) continue;
    scored.push({ trackId, score, reason: coPlayScore >= attributeScore ? 'co_played' : 'shared_attributes' });
  }
  return sortByScore(scored);
}

/**
 * The popular list: the most played tracks in this service's own data first, then the catalogue's
 * most popular tracks, all with reason `popular`. Best first, each track once, at most `limit`.
 */
export function rankPopular(
  mostPlayed: readonly PlayedTrack[],
  catalogue: readonly TrackFeatures[],
  excluded: ReadonlySet<string>,
  limit: number,
): Recommendation[] {
  const ranked = new Map<string, Recommendation>();
  const maxPlays = Math.max(0, ...mostPlayed.map((t) => t.plays));
  // Own plays rank in (0.5, 1], catalogue popularity in [0, 0.5]: what listeners here played comes first.
  for (const track of mostPlayed) {
    if (excluded.has(track.trackId) || ranked.has(track.trackId) || track.plays <= 0) continue;
    ranked.set(track.trackId, { trackId: track.trackId, score: 0.5 + (0.5 * track.plays) / maxPlays, reason: 'popular' });
  }
  for (const track of catalogue) {
    if (excluded.has(track.trackId) || ranked.has(track.trackId)) continue;
    ranked.set(track.trackId, { trackId: track.trackId, score: (0.5 * track.popularity) / 100, reason: 'popular' });
  }
  return sortByScore([...ranked.values()]).slice(0, limit);
}

/**
 * Fills a short personalised list up to `limit` with popular tracks it does not hold yet, scored
 * below its last entry so the order stays by score.
 */
export function topUp(personalised: readonly Recommendation[], popular: readonly Recommendation[], limit: number): Recommendation[] {
  const floor = Math.min(...personalised.map((r) => r.score));
  const have = new Set(personalised.map((r) => r.trackId));
  const fill = popular.filter((r) => !have.has(r.trackId)).map((r) => ({ ...r, score: floor * 0.5 * Math.min(1, r.score) }));
  return [...personalised, ...sortByScore(fill)].slice(0, limit);
}

function sortByScore(recommendations: Recommendation[]): Recommendation[] {
  return recommendations.sort((a, b) => b.score - a.score || a.trackId.localeCompare(b.trackId));
}
