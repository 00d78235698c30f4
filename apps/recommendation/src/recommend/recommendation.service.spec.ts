import { describe, expect, it, vi } from 'vitest';
import { Catalogue, type CatalogueSearch } from '../features/catalogue.js';
import type { FeatureSyncService } from '../features/feature-sync.service.js';
import type { TrackFeatures } from '../features/track-features.js';
import type { CandidateRepository } from './candidate.repository.js';
import type { CoPlayCandidate, ListeningHistoryEntry, PlayedTrack } from './recommendation.js';
import { RecommendationService } from './recommendation.service.js';

const rock = (trackId: string, popularity = 50): TrackFeatures => ({
  trackId,
  genres: ['rock'],
  moods: ['energetic'],
  language: 'en',
  bpm: 130,
  popularity,
});
const jazz = (trackId: string, popularity = 50): TrackFeatures => ({
  trackId,
  genres: ['jazz'],
  moods: ['relaxed'],
  language: 'fr',
  bpm: 90,
  popularity,
});

const played = (features: TrackFeatures, plays = 1, skips = 0): ListeningHistoryEntry => ({
  trackId: features.trackId,
  plays,
  skips,
  lastPlayedAt: plays > 0 ? new Date('2025-11-20T10:00:00Z') : null,
  lastEventAt: new Date('2025-11-20T10:00:00Z'),
  features,
});

interface World {
  history?: ListeningHistoryEntry[];
  coPlayed?: CoPlayCandidate[];
  ownMatches?: TrackFeatures[];
  mostPlayed?: PlayedTrack[];
  /** Catalogue tracks; SearchTracks filters them by genre. Absent: metadata is down. */
  catalogue?: TrackFeatures[];
}

// Collaborators replaced by in-memory fakes; the repository's SQL is covered by the medium test.
function setUp(world: World) {
  const candidates = {
    history: vi.fn(async () => world.history ?? []),
    coPlayed: vi.fn(async () => world.coPlayed ?? []),
    withAttributes: vi.fn(async () => world.ownMatches ?? []),
    mostPlayed: vi.fn(async (excluding: readonly string[], limit: number) =>
      (world.mostPlayed ?? []).filter((t) => !excluding.includes(t.trackId)).slice(0, limit),
    ),
  };
  const catalogue: Catalogue = {
    getFeatures: vi.fn(async (ids: readonly string[]) => {
      if (!world.catalogue) throw Object.assign(new Error('metadata down'), { code: 14 });
      return world.catalogue.filter((t) => ids.includes(t.trackId));
    }),
    search: vi.fn(async (search: CatalogueSearch) => {
      if (!world.catalogue) throw Object.assign(new Error('metadata down'), { code: 14 });
      return world.catalogue
        .filter((t) => !search.genre || t.genres.includes(search.genre))
        .toSorted((a, b) => b.popularity - a.popularity)
        .slice(0, search.limit);
    }),
  };
  const featureSync = {
    fetchMissing: vi.fn(async (ids: readonly string[]) => {
      try {
        return await catalogue.getFeatures(ids);
      } catch {
        return [];
      }
    }),
    remember: vi.fn(async () => undefined),
  };
  const service = new RecommendationService(
    candidates as unknown as CandidateRepository,
    catalogue,
    featureSync as unknown as FeatureSyncService,
  );
  return { service, candidates, catalogue, featureSync };
}

describe('RecommendationService', () => {
  it('answers a user without plays with the popular list: own most played, topped up from the catalogue', async () => {
    const { service } = setUp({
      history: [played(jazz('skipped'), 0, 1)],
      mostPlayed: [
        { trackId: 'own-hit', plays: 40 },
        { trackId: 'skipped', plays: 10 },
      ],
      catalogue: [rock('cat-hit', 99), jazz('skipped', 98)],
    });
    const result = await service.recommend('user', 5);
    expect(result.strategy).toBe('popular');
    expect(result.tracks.map((t) => t.trackId)).toEqual(['own-hit', 'cat-hit']);
    expect(result.tracks.every((t) => t.reason === 'popular')).toBe(true);
  });

  it('personalises from co-plays and attributes, excluding what the user heard', async () => {
    const { service, catalogue } = setUp({
      history: [played(rock('r1'), 3), played(rock('r2'), 1), played(jazz('j0'), 0, 2)],
      coPlayed: [{ trackId: 'j1', count: 4, features: jazz('j1') }],
      ownMatches: [rock('r3', 20)],
      catalogue: [rock('r1', 100), rock('r4', 90), jazz('j2', 95)],
    });
    const result = await service.recommend('user', 10);
    expect(result.strategy).toBe('personalised');
    const reasons = Object.fromEntries(result.tracks.map((t) => [t.trackId, t.reason]));
    expect(reasons).toMatchObject({ j1: 'co_played', r3: 'shared_attributes', r4: 'shared_attributes' });
    expect(reasons).not.toHaveProperty('r1');
    expect(reasons).not.toHaveProperty('j0');
    expect(vi.mocked(catalogue.search)).toHaveBeenCalledWith({ genre: 'rock', limit: 50 });
    const scores = result.tracks.map((t) => t.score);
    expect(scores).toEqual(scores.toSorted((a, b) => b - a));
  });

  it('still answers from its own data when metadata is down', async () => {
    const { service } = setUp({
      history: [played(rock('r1'), 2)],
      coPlayed: [{ trackId: 'c1', count: 1, features: undefined }],
    });
    const result = await service.recommend('user', 3);
    expect(result.strategy).toBe('personalised');
    expect(result.tracks.map((t) => [t.trackId, t.reason])).toEqual([['c1', 'co_played']]);

    const newcomer = await setUp({ mostPlayed: [{ trackId: 'own-hit', plays: 1 }] }).service.recommend('user', 3);
    expect(newcomer).toEqual({ strategy: 'popular', tracks: [{ trackId: 'own-hit', score: 1, reason: 'popular' }] });
  });

  it('falls back to popular when nothing can be scored', async () => {
    const { service } = setUp({ history: [played(rock('r1'), 1)], mostPlayed: [{ trackId: 'hit', plays: 3 }] });
    expect(await service.recommend('user', 5)).toMatchObject({ strategy: 'popular', tracks: [{ trackId: 'hit', reason: 'popular' }] });
  });

  it('fetches missing features of the history before building the taste profile', async () => {
    const { service, featureSync } = setUp({
      history: [{ ...played(rock('r1'), 2), features: undefined }],
      catalogue: [rock('r1'), rock('r5', 70)],
    });
    const result = await service.recommend('user', 5);
    expect(featureSync.fetchMissing).toHaveBeenCalledWith(['r1']);
    expect(result).toMatchObject({ strategy: 'personalised', tracks: [{ trackId: 'r5', reason: 'shared_attributes' }] });
  });

  it('tops a short personalised list up with popular tracks after the personal ones', async () => {
    const { service } = setUp({
      history: [played(rock('r1'), 2)],
      coPlayed: [{ trackId: 'c1', count: 1, features: undefined }],
      mostPlayed: [
        { trackId: 'hit', plays: 9 },
        { trackId: 'r1', plays: 5 },
      ],
    });
    const result = await service.recommend('user', 5);
    expect(result.tracks.map((t) => [t.trackId, t.reason])).toEqual([
      ['c1', 'co_played'],
      ['hit', 'popular'],
    ]);
  });
});
