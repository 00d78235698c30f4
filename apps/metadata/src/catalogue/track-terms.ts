import { BPM_BUCKET, YEAR_BUCKET } from './attribute-vocabulary.js';
import type { TrackInput } from './track-input.schema.js';

/** The term every track has: walking it is "all tracks", its count is the catalogue size. */
export const ALL_TRACKS_TERM = '*';
/** Most text terms a single track contributes, so one odd row cannot bloat the postings. */
const MAX_TEXT_TERMS = 48;

// Han ideographs, kana and Hangul have no spaces between words: they are indexed as overlapping
// character bigrams (plus single characters), as Lucene's CJK analyzer does. pg_trgm is not used for
// them at all: whether it keeps such characters depends on the database's locale.
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}ー]/u;
/** A character tokens are made of; anything else separates tokens. */
const WORD = /[\p{L}\p{N}ー]/u;
/** Any UTF-16 code unit outside ASCII (surrogates included). */
const NOT_ASCII = /[\u0080-\uffff]/;

/**
 * Lower case, without the accents of Latin, Greek and Cyrillic letters, so "Corazón" is found by
 * "corazon". Marks on other scripts stay: the voicing mark of ゼ is part of the letter, not an accent.
 */
export function foldText(value: string): string {
  // ASCII is its own NFKD and NFC form and has no marks: only the case changes. Most text is ASCII,
  // and this skips two normalisations and a Unicode regex replace.
  if (!NOT_ASCII.test(value)) return value.toLowerCase();
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

const SEPARATOR = 1;
const LATIN = 2;
const CJK_CHAR = 3;

/** What a character is to the tokenizer: SEPARATOR, LATIN (any other letter or digit) or CJK_CHAR. */
function classify(codePoint: number): number {
  const ch = String.fromCodePoint(codePoint);
  return !WORD.test(ch) ? SEPARATOR : CJK.test(ch) ? CJK_CHAR : LATIN;
}

/** `classify` of each BMP code unit, filled in on first sight (0: not yet); the regexes are the definition. */
const BMP_CLASS = new Uint8Array(0x10000);

/**
 * Calls `emit` with each token of already folded text, in order: a maximal run of letters and digits
 * is a token, split into latin parts (whole) and CJK runs (overlapping bigrams of characters, or the
 * character alone when the run has one). One pass over the text, no per-character strings.
 */
function scan(text: string, emit: (value: string, cjk: boolean) => void): void {
  const n = text.length;
  let latinStart = -1;
  let runStart = 0;
  let runLength = 0;
  let lastStart = 0;
  for (let i = 0; i <= n;) {
    let kind = SEPARATOR;
    let next = i + 1;
    if (i < n) {
      const codePoint = text.codePointAt(i) as number;
      if (codePoint > 0xffff) {
        next = i + 2;
        kind = classify(codePoint);
      } else {
        kind = BMP_CLASS[codePoint] as number;
        if (kind === 0) kind = BMP_CLASS[codePoint] = classify(codePoint);
      }
    }
    if (kind === CJK_CHAR) {
      if (latinStart >= 0) emit(text.slice(latinStart, i), false);
      latinStart = -1;
      if (runLength === 0) runStart = i;
      else emit(text.slice(lastStart, next), true);
      runLength++;
      lastStart = i;
    } else {
      if (runLength === 1) emit(text.slice(runStart, i), true);
      runLength = 0;
      if (kind === LATIN) {
        if (latinStart < 0) latinStart = i;
      } else if (latinStart >= 0) {
        emit(text.slice(latinStart, i), false);
        latinStart = -1;
      }
    }
    i = next;
  }
}

/** Splits text into index/query tokens: latin words whole; CJK runs as bigrams (or the single character). */
export function tokenize(value: string): TextToken[] {
  const tokens: TextToken[] = [];
  scan(foldText(value), (token, cjk) => tokens.push({ value: token, cjk }));
  return tokens;
}

export function bpmBucket(bpm: number): string {
  return `b:${Math.floor(bpm / BPM_BUCKET) * BPM_BUCKET}`;
}

/** The decade term of a release year (`y:1960`): what a rare year range walks. */
export function decadeTerm(year: number): string {
  return `y:${Math.floor(year / YEAR_BUCKET) * YEAR_BUCKET}`;
}

/** Every term a track is found by, without duplicates. */
export function trackTerms(track: TrackInput): string[] {
  const a = track.attributes;
  // An array searched with indexOf, not a Set: a track has some twenty short terms, and comparing
  // against them is cheaper than hashing each new string into a set.
  const terms: string[] = [ALL_TRACKS_TERM];
  const add = (term: string): void => {
    if (terms.indexOf(term) < 0) terms.push(term);
  };
  for (const g of a.genres) add(`g:${g}`);
  for (const m of a.moods) add(`m:${m}`);
  for (const t of a.tags) add(`t:${t}`);
  add(`l:${a.language}`);
  add(bpmBucket(a.bpm));
  add(decadeTerm(Number(track.release_date.slice(0, 4))));
  if (a.key) add(`k:${a.key}`);
  if (a.mode) add(`o:${a.mode}`);
  if (a.vocal_type) add(`v:${a.vocal_type}`);
  add(`e:${track.explicit ? 1 : 0}`);
  // Text terms: every token, and each CJK character alone so one-character queries match; the first
  // MAX_TEXT_TERMS distinct ones, title first. Only text terms start with "w:", so they are looked
  // for among the text terms alone.
  const textStart = terms.length;
  const limit = textStart + MAX_TEXT_TERMS;
  const addText = (term: string): void => {
    if (terms.length < limit && terms.indexOf(term, textStart) < 0) terms.push(term);
  };
  const emit = (token: string, cjk: boolean): void => {
    addText(`w:${token}`);
    if (cjk) {
      // A CJK token is one or two characters (a character may be a surrogate pair).
      const first = (token.codePointAt(0) as number) > 0xffff ? 2 : 1;
      addText(`w:${token.slice(0, first)}`);
      if (first < token.length) addText(`w:${token.slice(first)}`);
    }
  };
  scan(foldText(track.title), emit);
  scan(foldText(track.artist_name), emit);
  scan(foldText(track.album_title), emit);
  return terms;
}
