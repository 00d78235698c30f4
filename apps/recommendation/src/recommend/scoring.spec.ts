import { describe, expect, it } from 'vitest';
import type { TrackFeatures } from '../features/track-features.js';
import type { ListeningHistoryEntry } from './recommendation.js';
import { attributeMatch, buildTasteProfile, rankPopular, scorePersonalised, topLiked, topUp } from './scoring.js';

const features = (trackId: string, genre: string, mood = 'energetic', language = 'en', popularity = 50): TrackFeatures => ({
  trackId,
  genres: [genre],
  moods: [mood],
  language,
  bpm: 120,
  popularity,
});

const entry = (f: TrackFeatures, plays: number, skips = 0): ListeningHistoryEntry => ({
  trackId: f.trackId,
  plays,
  skips,
  lastPlayedAt: plays > 0 ? new Date('2025-11-20T10:00:00Z') : null,
  lastEventAt: new Date('2025-11-20T10:00:00Z'),
  features: f,
});

describe('taste profile', () => {
  it('weighs plays positively and skips negatively', () => {
    const profile = buildTasteProfile([entry(features('r1', 'rock'), 3), entry(features('j1', 'jazz', 'relaxed'), 0, 2)]);
    expect(profile.genres.get('rock')).toBeGreaterThan(0);
    expect(profile.genres.get('jazz')).toBeLessThan(0);
    expect(topLiked(profile.genres, 5)).toEqual(['rock']);
    expect(attributeMatch(profile, features('r9', 'rock'))).toBeGreaterThan(0);
    expect(attributeMatch(profile, features('j9', 'jazz', 'relaxed', 'fr'))).toBeLessThan(0);
  });

  it('ignores tracks without features', () => {
    const profile = buildTasteProfile([{ ...entry(features('x', 'rock'), 2), features: undefined }]);
    expect(profile.genres.size).toBe(0);
  });
});

describe('personalised scoring', () => {
  const rockFan = buildTasteProfile([entry(features('r1', 'rock'), 2), entry(features('r2', 'rock'), 1)]);

  it('ranks co-played tracks by co-play count, with reason co_played', () => {
    const result = scorePersonalised({
      profile: rockFan,
      coPlayed: [
        { trackId: 'seldom', count: 1, features: undefined },
        { trackId: 'often', count: 8, features: undefined },
      ],
      attributeCandidates: [],
      excluded: new Set(),
    });
    expect(result.map((r) => r.trackId)).toEqual(['often', 'seldom']);
    expect(result.every((r) => r.reason === 'co_played')).toBe(true);
    expect(result[0]!.score).toBeGreaterThan(result[1]!.score);
  });

  it('recommends tracks sharing liked attributes, with reason shared_attributes, and drops disliked ones', () => {
    const result = scorePersonalised({
      profile: buildTasteProfile([entry(features('r1', 'rock'), 2), entry(features('j1', 'jazz', 'relaxed', 'fr'), 0, 3)]),
      coPlayed: [],
      attributeCandidates: [features('r3', 'rock'), features('j3', 'jazz', 'relaxed', 'fr')],
      excluded: new Set(),
    });
    expect(result).toEqual([{ trackId: 'r3', score: expect.any(Number), reason: 'shared_attributes' }]);
  });

  it('lets skipped attributes outweigh a weak co-play', () => {
    const skipper = buildTasteProfile([entry(features('r1', 'rock'), 1), entry(features('m1', 'metal', 'angry', 'de'), 0, 6)]);
    const result = scorePersonalised({
      profile: skipper,
      coPlayed: [
        { trackId: 'strong', count: 10, features: features('strong', 'rock') },
        { trackId: 'weak-metal', count: 1, features: features('weak-metal', 'metal', 'angry', 'de') },
      ],
      attributeCandidates: [],
      excluded: new Set(),
    });
    expect(result.map((r) => r.trackId)).toEqual(['strong']);
  });

  it('never recommends excluded tracks and lists each track once, scores summed', () => {
    const result = scorePersonalised({
      profile: rockFan,
      coPlayed: [
        { trackId: 'r1', count: 9, features: features('r1', 'rock') },
        { trackId: 'both', count: 6, features: undefined },
      ],
      attributeCandidates: [features('both', 'rock'), features('both', 'rock'), features('r2', 'rock'), features('r4', 'rock')],
      excluded: new Set(['r1', 'r2']),
    });
    const ids = result.map((r) => r.trackId);
    expect(ids).not.toContain('r1');
    expect(ids).not.toContain('r2');
    expect(new Set(ids).size).toBe(ids.length);
    const both = result.find((r) => r.trackId === 'both')!;
    const r4 = result.find((r) => r.trackId === 'r4')!;
    expect(both.reason).toBe('co_played');
    expect(both.score).toBeGreaterThan(r4.score);
  });
});

describe('popular ranking', () => {
  it('puts own most-played first, tops up from the catalogue by popularity, excluding and de-duplicating', () => {
    const result = rankPopular(
      [
        { trackId: 'own-2', plays: 2 },
        { trackId: 'own-9', plays: 9 },
        { trackId: 'heard', plays: 50 },
      ],
      [
        features('cat-90', 'pop', 'happy', 'en', 90),
        features('own-2', 'pop', 'happy', 'en', 99),
        features('cat-40', 'pop', 'happy', 'en', 40),
      ],
      new Set(['heard']),
      4,
    );
    expect(result.map((r) => r.trackId)).toEqual(['own-9', 'own-2', 'cat-90', 'cat-40']);
    expect(result.every((r) => r.reason === 'popular')).toBe(true);
    expect(rankPopular([], [features('a', 'pop'), features('b', 'pop')], new Set(), 1)).toHaveLength(1);
  });

  it('tops a short personalised list up below its lowest score', () => {
    const personal = [
      { trackId: 'p1', score: 0.9, reason: 'co_played' as const },
      { trackId: 'p2', score: 0.3, reason: 'shared_attributes' as const },
    ];
    const popular = [
      { trackId: 'p2', score: 1, reason: 'popular' as const },
      { trackId: 'x', score: 1, reason: 'popular' as const },
      { trackId: 'y', score: 0.6, reason: 'popular' as const },
    ];
    const result = topUp(personal, popular, 3);
    expect(result.map((r) => r.trackId)).toEqual(['p1', 'p2', 'x']);
    expect(result[2]!.score).toBeLessThan(0.3);
  });
});
