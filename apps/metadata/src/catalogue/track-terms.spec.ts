import { describe, expect, it } from 'vitest';
import { foldText, tokenize, trackTerms, type TextToken } from './track-terms.js';

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

// The definitions the fast paths must agree with: Unicode normalisation and regexes, one character
// at a time (the implementation before the ASCII fast path and the single-pass scanner).
const referenceFold = (value: string): string =>
  value
    .normalize('NFKD')
    .replace(/([\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}])\p{M}+/gu, '$1')
    .normalize('NFC')
    .toLowerCase();
const REFERENCE_CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}ー]/u;
function referenceTokenize(value: string): TextToken[] {
  const tokens: TextToken[] = [];
  for (const [word] of referenceFold(value).matchAll(/[\p{L}\p{N}ー]+/gu)) {
    let latin = '';
    let run: string[] = [];
    const flushRun = (): void => {
      if (run.length === 1) tokens.push({ value: run[0] as string, cjk: true });
      for (let i = 0; i + 1 < run.length; i++) tokens.push({ value: `${run[i]}${run[i + 1]}`, cjk: true });
      run = [];
    };
    for (const ch of word) {
      if (REFERENCE_CJK.test(ch)) {
        if (latin) tokens.push({ value: latin, cjk: false });
        latin = '';
        run.push(ch);
      } else {
        flushRun();
        latin += ch;
      }
    }
    flushRun();
    if (latin) tokens.push({ value: latin, cjk: false });
  }
  return tokens;
}

const TRICKY = [
  'Corazón',
  'Ærø',
  'Ελληνικά Άλφα ΣΟΦΟΣ ΐ',
  'Ёлка Йод Ї',
  'ゼロ ゼ',
  'ｶﾞｰﾃﾞﾝ',
  '天使のテーゼ ーー',
  '사랑 꿈 (Radio Edit)',
  '\u1100\u1161\u11A8',
  '東京Tokyo2020',
  '😀 emoji 🎸guitar🎸',
  'ＡＢＣ ａｂｃ １２３',
  'ﬁne ① ² ¼',
  'İstanbul ß ẞ',
  'e\u0301 \u0301a',
  '𠀀𠀁 a𠀀b',
  '\uD800 lone \uDC00',
  "Rain Rain 'n' ROLL-99",
  'tab\tnew\nline',
  '〇々〆・',
];

describe('fast paths', () => {
  it('folds ASCII by lower-casing only, as normalisation would', () => {
    let ascii = '';
    for (let c = 0; c < 0x80; c++) ascii += String.fromCharCode(c);
    expect(foldText(ascii)).toBe(referenceFold(ascii));
    expect(foldText('Radio GARDEN 2020')).toBe('radio garden 2020');
  });

  it('folds and tokenizes tricky text exactly as the Unicode definitions do', () => {
    for (const text of TRICKY) {
      expect(foldText(text), text).toBe(referenceFold(text));
      expect(tokenize(text), text).toEqual(referenceTokenize(text));
    }
    expect(foldText('ＡＢＣ')).toBe('abc');
    expect(tokenize('ｶﾞｰﾃﾞﾝ').map((t) => t.value)).toEqual(['ガー', 'ーデ', 'デン']);
    expect(tokenize('東京Tokyo2020')).toEqual([
      { value: '東京', cjk: true },
      { value: 'tokyo2020', cjk: false },
    ]);
    expect(tokenize('𠀀𠀁 x𠀀')).toEqual([
      { value: '𠀀𠀁', cjk: true },
      { value: 'x', cjk: false },
      { value: '𠀀', cjk: true },
    ]);
  });

  it('classifies every BMP character as the regexes do', () => {
    const differing: string[] = [];
    for (let c = 0; c < 0x10000; c++) {
      const text = `a${String.fromCharCode(c)}b東${String.fromCharCode(c)}京`;
      if (JSON.stringify(tokenize(text)) !== JSON.stringify(referenceTokenize(text))) differing.push(`U+${c.toString(16)}`);
    }
    expect(differing).toEqual([]);
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
      attributes: {
        genres: ['pop', 'rock'],
        moods: ['happy'],
        language: 'en',
        bpm: 127,
        energy: 0.1,
        valence: 0.1,
        danceability: 0.1,
        tags: ['live'],
        mode: 'minor',
      },
    });
    expect(terms.sort()).toEqual(
      ['*', 'b:120', 'e:1', 'g:pop', 'g:rock', 'l:en', 'm:happy', 'o:minor', 't:live', 'w:rain', 'w:雨', 'y:2020'].sort(),
    );
  });

  it('keeps the first 48 distinct text terms, title first, and each CJK character alone', () => {
    const words = Array.from({ length: 60 }, (_, i) => `w${i}`);
    const track = {
      title: `${words.slice(0, 30).join(' ')} w0 W1`,
      artist_name: '東京',
      album_title: words.slice(30).join(' '),
      duration_ms: 1000,
      isrc: 'ZZTST0000001',
      release_date: '2020-01-01',
      popularity: 1,
      explicit: false,
      regions: [],
      tier: 'free' as const,
      audio_ref: '',
      attributes: { genres: ['pop', 'pop'], moods: [], language: 'ja', bpm: 90, energy: 0.1, valence: 0.1, danceability: 0.1, tags: [] },
    };
    expect(trackTerms(track)).toEqual([
      '*',
      'g:pop',
      'l:ja',
      'b:90',
      'y:2020',
      'e:0',
      ...words.slice(0, 30).map((w) => `w:${w}`),
      'w:東京',
      'w:東',
      'w:京',
      ...words.slice(30, 45).map((w) => `w:${w}`),
    ]);
  });
});
