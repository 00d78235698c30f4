import { Inject, Injectable, Logger } from '@nestjs/common';
import { Catalogue, type CatalogueSearch } from '../features/catalogue.js';
import { FeatureSyncService } from '../features/feature-sync.service.js';
import type { TrackFeatures } from '../features/track-features.js';
import { CandidateRepository } from './candidate.repository.js';
import type { ListeningHistoryEntry, Recommendation, Recommendations } from './recommendation.js';
import { buildTasteProfile, rankPopular, scorePersonalised, topLiked, topUp } from './scoring.js';

/** Recently played or skipped tracks: the taste profile's input and never recommended again. */
const HISTORY_WINDOW = 500;
/** Recent plays whose co-played tracks are candidates. */
const CO_PLAY_SEEDS = 50;
const CANDIDATES_PER_SOURCE = 200;
/** Liked genres (and moods) to look for candidates by. */
const TOP_GENRES = 3;
const TOP_MOODS = 3;
/** Liked genres searched in the catalogue, one call each. */
const CATALOGUE_GENRES = 2;
/** SearchTracks' largest page. */
const CATALOGUE_PAGE = 50;

/**
 * Personal recommendations from the user's history, co-play statistics and track attributes, or the
 * popular list when there is nothing to personalise from. Metadata widens the candidates when it
 * answers; when it does not, the answer comes from this service's own data alone.
 */
@Injectable()
export class RecommendationService {
  private readonly logger = new Logger(RecommendationService.name);

  constructor(
    @Inject(CandidateRepository) private readonly candidates: CandidateRepository,
    @Inject(Catalogue) private readonly catalogue: Catalogue,
    @Inject(FeatureSyncService) private readonly featureSync: FeatureSyncService,
  ) {}

  async recommend(userId: string, limit: number): Promise<Recommendations> {
    const history = await this.withFeatures(await this.candidates.history(userId, HISTORY_WINDOW));
    const excluded = new Set(history.map((entry) => entry.trackId));
    if (history.some((entry) => entry.plays > 0)) {
      const personalised = (await this.personalised(history, excluded)).slice(0, limit);
      if (personalised.length > 0) {
        const tracks = personalised.length < limit ? topUp(personalised, await this.popular(excluded, limit), limit) : personalised;
        return { strategy: 'personalised', tracks };
      }
    }
    return { strategy: 'popular', tracks: await this.popular(excluded, limit) };
  }

  private async personalised(history: readonly ListeningHistoryEntry[], excluded: ReadonlySet<string>): Promise<Recommendation[]> {
    const profile = buildTasteProfile(history);
    const seeds = history
      .filter((entry) => entry.lastPlayedAt !== null)
      .toSorted((a, b) => (b.lastPlayedAt?.getTime() ?? 0) - (a.lastPlayedAt?.getTime() ?? 0))
      .slice(0, CO_PLAY_SEEDS)
      .map((entry) => entry.trackId);
    const excluding = [...excluded];
    const [coPlayed, ownMatches, catalogueMatches] = await Promise.all([
      this.candidates.coPlayed(seeds, excluding, CANDIDATES_PER_SOURCE),
      this.candidates.withAttributes(
        topLiked(profile.genres, TOP_GENRES),
        topLiked(profile.moods, TOP_MOODS),
        excluding,
        CANDIDATES_PER_SOURCE,
      ),
      Promise.all(topLiked(profile.genres, CATALOGUE_GENRES).map((genre) => this.searchCatalogue({ genre, limit: CATALOGUE_PAGE }))),
    ]);
    return scorePersonalised({
      profile,
      coPlayed,
      attributeCandidates: [...ownMatches, ...catalogueMatches.flat()],
      excluded,
    });
  }

  private async popular(excluded: ReadonlySet<string>, limit: number): Promise<Recommendation[]> {
    const mostPlayed = await this.candidates.mostPlayed([...excluded], limit);
    const catalogue = mostPlayed.length < limit ? await this.searchCatalogue({ limit: CATALOGUE_PAGE }) : [];
    return rankPopular(mostPlayed, catalogue, excluded, limit);
  }

  /** The history with features filled in from metadata where this service has none yet (best effort). */
  private async withFeatures(history: ListeningHistoryEntry[]): Promise<ListeningHistoryEntry[]> {
    const missing = history.filter((entry) => !entry.features).map((entry) => entry.trackId);
    if (missing.length === 0) return history;
    const fetched = new Map((await this.featureSync.fetchMissing(missing)).map((f) => [f.trackId, f]));
    return history.map((entry) => (entry.features ? entry : { ...entry, features: fetched.get(entry.trackId) }));
  }

  /** Catalogue tracks for the search, remembered in the own copy; none when metadata does not answer. */
  private async searchCatalogue(search: CatalogueSearch): Promise<TrackFeatures[]> {
    let found: TrackFeatures[];
    try {
      found = await this.catalogue.search(search);
    } catch (error) {
      this.logger.warn(`answering from own data, metadata search failed: ${error instanceof Error ? error.message : String(error)}`);
      return [];
    }
    await this.featureSync.remember(found);
    return found;
  }
}
