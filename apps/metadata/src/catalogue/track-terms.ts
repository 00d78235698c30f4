import { BPM_BUCKET } from './attribute-vocabulary.js';
import type { TrackInput } from './track-input.schema.js';

/** The term every track has: walking it is "all tracks", its count is the catalogue size. */
export const ALL_TRACKS_TERM = '*';
/** Most text terms a single track contributes, so one odd row cannot bloat the postings. */
const MAX_TEXT_TERMS = 48;

// Han ideographs, kana and Hangul have no spaces between words: they are indexed as overlapping
// character bigrams (plus single characters), as Lucene's CJK analyzer does. pg_trgm is not used for
// them at all: whether it keeps such characters depends on the database's locale.
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}ー]/u;
const TOKEN = /[\p{L}\p{N}ー]+/gu;

/**
 * Lower case, without the accents of Latin, Greek and Cyrillic letters, so "Corazón" is found by
 * "corazon". Marks on other scripts stay: the voicing mark of ゼ is part of the letter, not an accent.
 */
export function foldText(value: string): string {
  return value
    .normalize('NFKD')
    .replace(/([\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}])\p{M}+/gu, '$1')
    .normalize('NFC')
    .toLowerCase();
}

export interface TextToken {
  /** The word (latin) or CJK bigram/unigram. */
  value: string;
  cjk: boolean;
}

/** Splits text into index/query tokens: latin words whole; CJK runs as bigrams (or the single character). */
export function tokenize(value: string): TextToken[] {
  const tokens: TextToken[] = [];
  for (const [word] of foldText(value).matchAll(TOKEN)) {
    let latin = '';
    let run = '';
    const flushRun = (): void => {
      const chars = [...run];
      if (chars.length === 1) tokens.push({ value: run, cjk: true });
      for (let i = 0; i + 1 < chars.length; i++) tokens.push({ value: chars.slice(i, i + 2).join(''), cjk: true });
      run = '';
    };
    for (const ch of word) {
      if (CJK.test(ch)) {
        if (latin) tokens.push({ value: latin, cjk: false });
        latin = '';
        run += ch;
      } else {
        if (run) flushRun();
        latin += ch;
      }
    }
    if (run) flushRun();
    if (latin) tokens.push({ value: latin, cjk: false });
  }
  return tokens;
}

/** Index terms of the text: every token, and each CJK character alone so one-character queries match. */
function textTerms(value: string): string[] {
  const terms: string[] = [];
  for (const token of tokenize(value)) {
    terms.push(`w:${token.value}`);
    if (token.cjk) for (const ch of token.value) terms.push(`w:${ch}`);
  }
  return terms;
}

export function bpmBucket(bpm: number): string {
  return `b:${Math.floor(bpm / BPM_BUCKET) * BPM_BUCKET}`;
}

/** The decade term of a release year (`y:1960`): what a rare year range walks. */
export function decadeTerm(year: number): string {
  return `y:${Math.floor(year / 10) * 10}`;
}

/** Every term a track is found by, without duplicates. */
export function trackTerms(track: TrackInput): string[] {
  const a = track.attributes;
  const terms = new Set<string>([ALL_TRACKS_TERM]);
  for (const g of a.genres) terms.add(`g:${g}`);
  for (const m of a.moods) terms.add(`m:${m}`);
  for (const t of a.tags) terms.add(`t:${t}`);
  terms.add(`l:${a.language}`);
  terms.add(bpmBucket(a.bpm));
  terms.add(decadeTerm(Number(track.release_date.slice(0, 4))));
  if (a.key) terms.add(`k:${a.key}`);
  if (a.mode) terms.add(`o:${a.mode}`);
  if (a.vocal_type) terms.add(`v:${a.vocal_type}`);
  terms.add(`e:${track.explicit ? 1 : 0}`);
  const text = new Set([...textTerms(track.title), ...textTerms(track.artist_name), ...textTerms(track.album_title)]);
  for (const term of [...text].slice(0, MAX_TEXT_TERMS)) terms.add(term);
  return [...terms];
}
