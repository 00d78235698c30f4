import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { GENRES, LANGUAGES, MOODS } from '../catalogue/attribute-vocabulary.js';
import { compiledTrackInputSchema, trackInputSchema } from '../catalogue/track-input.schema.js';
import { DEFAULT_SEED, GENRE_PROFILES, syntheticCatalogue, TITLE_WORDS } from './synthetic-catalogue.js';

describe('syntheticCatalogue', () => {
  it('yields the same tracks for the same seed and other tracks for another seed', () => {
    const once = [...syntheticCatalogue(500, 11)];
    expect([...syntheticCatalogue(500, 11)]).toEqual(once);
    const other = [...syntheticCatalogue(500, 12)];
    expect(other.map((t) => t.title)).not.toEqual(once.map((t) => t.title));
    expect(new Set([...once, ...other].map((t) => t.isrc)).size).toBe(1000);
  });

  it('is, for the default seed, the catalogue the benchmark figures were measured on', () => {
    // docs/benchmarks.md's figures come from files tools/catalogue/generate.ts wrote with this
    // generator: a change to what it yields makes them incomparable, so it must be deliberate.
    const hash = createHash('sha256');
    for (const track of syntheticCatalogue(1000, DEFAULT_SEED)) hash.update(`${JSON.stringify(track)}\n`);
    expect(hash.digest('hex')).toBe('88a96f3c23a4e18d937626ed6fd88fcb069726b622845fe799c7f59774162438');
  });

  it('yields as many tracks as asked, by about count / 25 artists with albums of about 7 tracks', () => {
    for (const count of [1, 10, 3000]) expect([...syntheticCatalogue(count)]).toHaveLength(count);
    const tracks = [...syntheticCatalogue(25_000)];
    const artists = new Set(tracks.map((t) => t.artist_name));
    const albums = new Set(tracks.map((t) => `${t.artist_name}\n${t.album_title}`));
    expect(artists.size).toBeGreaterThan(900);
    expect(artists.size).toBeLessThanOrEqual(1000);
    expect(tracks.length / albums.size).toBeGreaterThan(5);
    expect(tracks.length / albums.size).toBeLessThan(10);
    expect(new Set(tracks.map((t) => t.isrc)).size).toBe(tracks.length);
  });

  it('writes only tracks the import accepts as they are', () => {
    for (const track of syntheticCatalogue(3000, 5)) {
      const parsed = trackInputSchema.safeParse(track);
      expect(parsed.error?.issues, JSON.stringify(track)).toBeUndefined();
      // Nothing added by defaults, nothing stripped.
      expect(parsed.data).toEqual(track);
      expect(compiledTrackInputSchema.safeParse(track).success).toBe(true);
    }
  });

  it('draws genres, moods and languages from the attribute vocabulary only', () => {
    const outside = (values: readonly string[], vocabulary: readonly string[]) => values.filter((v) => !vocabulary.includes(v));
    expect(
      outside(
        GENRE_PROFILES.map((g) => g.name),
        GENRES,
      ),
    ).toEqual([]);
    expect(
      outside(
        GENRE_PROFILES.flatMap((g) => g.moods),
        MOODS,
      ),
    ).toEqual([]);
    expect(outside([...GENRE_PROFILES.flatMap((g) => g.languages), ...Object.keys(TITLE_WORDS)], LANGUAGES)).toEqual([]);
  });
});
