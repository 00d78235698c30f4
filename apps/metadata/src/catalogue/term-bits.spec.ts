import { describe, expect, it } from 'vitest';
import { GENRES, KEYS, LANGUAGES, MODES, MOODS, VOCAL_TYPES } from './attribute-vocabulary.js';
import { termBitCheck, trackBits, type BitSource } from './term-bits.js';

const base: BitSource = { explicit: false, attributes: { genres: ['pop'], moods: [], language: 'en' } };
const passes = (track: BitSource, term: string): boolean => {
  const check = termBitCheck(term);
  if (!check) throw new Error(`${term} has no bits`);
  return (BigInt(trackBits(track)) & check.mask) === check.value;
};

describe('term bits', () => {
  it('a track passes the check of every closed-vocabulary term it has, and of no other value of that field', () => {
    const fields: [string, readonly string[], (v: string) => BitSource][] = [
      ['g:', GENRES, (v) => ({ ...base, attributes: { ...base.attributes, genres: [v] } })],
      ['m:', MOODS, (v) => ({ ...base, attributes: { ...base.attributes, moods: [v] } })],
      ['l:', LANGUAGES, (v) => ({ ...base, attributes: { ...base.attributes, language: v } })],
      ['k:', KEYS, (v) => ({ ...base, attributes: { ...base.attributes, key: v } })],
      ['o:', MODES, (v) => ({ ...base, attributes: { ...base.attributes, mode: v } })],
      ['v:', VOCAL_TYPES, (v) => ({ ...base, attributes: { ...base.attributes, vocal_type: v } })],
    ];
    for (const [prefix, values, make] of fields) {
      for (const value of values) {
        const track = make(value);
        for (const other of values) expect(passes(track, `${prefix}${other}`), `${prefix}${value} vs ${other}`).toBe(other === value);
      }
    }
  });

  it('holds several genres and moods, every field at once, and explicit in the top bit', () => {
    const track: BitSource = {
      explicit: true,
      attributes: { genres: ['afrobeats', 'city-pop', 'pop'], moods: ['peaceful', 'happy'], language: 'sw', key: 'b', mode: 'minor', vocal_type: 'choir' },
    };
    for (const term of ['g:afrobeats', 'g:city-pop', 'g:pop', 'm:peaceful', 'm:happy', 'l:sw', 'k:b', 'o:minor', 'v:choir', 'e:1']) expect(passes(track, term), term).toBe(true);
    for (const term of ['g:rock', 'm:sad', 'l:en', 'k:a#', 'o:major', 'v:male', 'e:0']) expect(passes(track, term), term).toBe(false);
    // A signed 64-bit integer, never negative: bit 63 stays clear.
    expect(BigInt(trackBits(track))).toBeLessThan(2n ** 63n);
    expect(BigInt(trackBits(track))).toBeGreaterThanOrEqual(2n ** 62n);
    expect(passes({ ...track, explicit: false }, 'e:0')).toBe(true);
  });

  it('gives no check for terms without bits: words, tags, BPM buckets, decades, unknown values', () => {
    for (const term of ['w:love', 't:live', 'b:120', 'y:1990', '*', 'g:polka-step', 'l:xx']) expect(termBitCheck(term), term).toBeUndefined();
  });
});
