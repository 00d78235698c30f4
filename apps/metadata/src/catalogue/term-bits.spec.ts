import { describe, expect, it } from 'vitest';
import { GENRES, KEYS, LANGUAGES, MODES, MOODS, VOCAL_TYPES } from './attribute-vocabulary.js';
import { termBitCheck, trackBits } from './term-bits.js';

/** A track's terms, as trackTerms makes them: the bits come from these. */
const base = ['*', 'g:pop', 'l:en', 'b:120', 'y:1990', 'e:0', 'w:love', 't:live'];
const passes = (track: readonly string[], term: string): boolean => {
  const check = termBitCheck(term);
  if (!check) throw new Error(`${term} has no bits`);
  return (BigInt(trackBits(track)) & check.mask) === check.value;
};

describe('term bits', () => {
  it('a track passes the check of every closed-vocabulary term it has, and of no other value of that field', () => {
    // Each value with the base terms, minus the base's own value of that field (pop, en).
    const fields: [string, readonly string[]][] = [
      ['g:', GENRES],
      ['m:', MOODS],
      ['l:', LANGUAGES],
      ['k:', KEYS],
      ['o:', MODES],
      ['v:', VOCAL_TYPES],
    ];
    const make = (prefix: string, value: string) => [...base.filter((t) => !t.startsWith(prefix)), `${prefix}${value}`];
    for (const [prefix, values] of fields) {
      for (const value of values) {
        const track = make(prefix, value);
        for (const other of values) expect(passes(track, `${prefix}${other}`), `${prefix}${value} vs ${other}`).toBe(other === value);
      }
    }
  });

  it('holds several genres and moods, every field at once, and explicit in the top bit', () => {
    const track = ['*', 'g:afrobeats', 'g:city-pop', 'g:pop', 'm:peaceful', 'm:happy', 'l:sw', 'k:b', 'o:minor', 'v:choir', 'e:1', 'w:sky'];
    for (const term of ['g:afrobeats', 'g:city-pop', 'g:pop', 'm:peaceful', 'm:happy', 'l:sw', 'k:b', 'o:minor', 'v:choir', 'e:1'])
      expect(passes(track, term), term).toBe(true);
    for (const term of ['g:rock', 'm:sad', 'l:en', 'k:a#', 'o:major', 'v:male', 'e:0']) expect(passes(track, term), term).toBe(false);
    // A signed 64-bit integer, never negative: bit 63 stays clear.
    expect(BigInt(trackBits(track))).toBeLessThan(2n ** 63n);
    expect(BigInt(trackBits(track))).toBeGreaterThanOrEqual(2n ** 62n);
    expect(passes([...track.filter((t) => t !== 'e:1'), 'e:0'], 'e:0')).toBe(true);
    // Terms without bits add none.
    expect(trackBits(['*', 'w:love', 't:live', 'b:120', 'y:1990', 'e:0'])).toBe('0');
  });

  it('gives no check for terms without bits: words, tags, BPM buckets, decades, unknown values', () => {
    for (const term of ['w:love', 't:live', 'b:120', 'y:1990', '*', 'g:polka-step', 'l:xx'])
      expect(termBitCheck(term), term).toBeUndefined();
  });
});
