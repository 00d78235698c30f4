import { describe, expect, it } from 'vitest';
import { tokenize, trackTerms } from './track-terms.js';

describe('tokenize', () => {
  it('keeps latin words whole, folded to lower case without accents', () => {
    expect(tokenize('Corazón de  MELÓN!')).toEqual([
      { value: 'corazon', cjk: false },
      { value: 'de', cjk: false },
      { value: 'melon', cjk: false },
    ]);
  });

  it('splits Chinese and Japanese runs into overlapping bigrams, and keeps a lone character', () => {
    expect(tokenize('夜空中').map((t) => t.value)).toEqual(['夜空', '空中']);
    expect(tokenize('星').map((t) => t.value)).toEqual(['星']);
    expect(tokenize('天使のテーゼ').map((t) => t.value)).toEqual(['天使', '使の', 'のテ', 'テー', 'ーゼ']);
  });

  it('separates latin and CJK inside one token', () => {
    expect(tokenize('未来nix19')).toEqual([
      { value: '未来', cjk: true },
      { value: 'nix19', cjk: false },
    ]);
  });

  it('has nothing to index in punctuation', () => {
    expect(tokenize("'%; --")).toEqual([]);
  });
});

describe('trackTerms', () => {
  it('names every filterable value once, with the all-tracks term, the BPM bucket and the decade', () => {
    const terms = trackTerms({
      title: 'Rain Rain',
      artist_name: '雨',
      album_title: 'Rain',
      duration_ms: 1000,
      isrc: 'ZZTST0000001',
      release_date: '2020-01-01',
      popularity: 1,
      explicit: true,
      regions: [],
      tier: 'free',
      audio_ref: '',
      attributes: { genres: ['pop', 'rock'], moods: ['happy'], language: 'en', bpm: 127, energy: 0.1, valence: 0.1, danceability: 0.1, tags: ['live'], mode: 'minor' },
    });
    expect(terms.sort()).toEqual(['*', 'b:120', 'e:1', 'g:pop', 'g:rock', 'l:en', 'm:happy', 'o:minor', 't:live', 'w:rain', 'w:雨', 'y:2020'].sort());
  });
});
