import { GENRES, KEYS, LANGUAGES, MODES, MOODS, VOCAL_TYPES } from './attribute-vocabulary.js';

/**
 * Term bits: a track's closed-vocabulary attributes packed into one 63-bit integer that every one of
 * its postings carries (`track_postings.bits`, in the walk index's INCLUDE list). A walk then checks
 * a genre, mood, language, key, mode, vocal type or explicit filter on the walked index entry itself,
 * instead of one more descent into the postings index per walked row (most of a three-filter walk's
 * time without them).
 *
 * Layout, low bit first (a vocabulary's position is its value: vocabularies are append-only):
 * - bits 0–29: one bit per genre (a track has up to 3);
 * - bits 30–47: one bit per mood (up to 4);
 * - bits 48–52: language, its position + 1 (0: none);
 * - bits 53–56: key, position + 1; bits 57–58: mode, position + 1; bits 59–61: vocal type, position + 1;
 * - bit 62: explicit. Bit 63 stays clear, so the value is a non-negative bigint.
 * A value that does not fit (a 31st genre, say) gets no bits: a filter on it is probed as before.
 * The SQL write paths compute the same bits with `catalogue_track_bits(jsonb, boolean)`, created by
 * the posting-bits migration; the migration tests check that both agree.
 */
interface Field {
  prefix: string;
  values: readonly string[];
  shift: number;
  /** One bit per value (multi-valued attributes) or the value's position + 1 in `width` bits. */
  kind: 'flags' | 'enum';
  width: number;
}

const FIELDS: readonly Field[] = [
  { prefix: 'g:', values: GENRES, shift: 0, kind: 'flags', width: 30 },
  { prefix: 'm:', values: MOODS, shift: 30, kind: 'flags', width: 18 },
  { prefix: 'l:', values: LANGUAGES, shift: 48, kind: 'enum', width: 5 },
  { prefix: 'k:', values: KEYS, shift: 53, kind: 'enum', width: 4 },
  { prefix: 'o:', values: MODES, shift: 57, kind: 'enum', width: 2 },
  { prefix: 'v:', values: VOCAL_TYPES, shift: 59, kind: 'enum', width: 3 },
];
const EXPLICIT_BIT = 62n;
/** The term kinds (the letter before the colon) that can have bits. */
const BIT_KINDS = 'gmlkove';

/** What a posting's bits must satisfy for a term: `bits & mask = value`. */
export interface BitCheck {
  mask: bigint;
  value: bigint;
}

function fits(field: Field, position: number): boolean {
  return position >= 0 && (field.kind === 'flags' ? position < field.width : position + 1 < 2 ** field.width);
}

/** The check for a term (`g:pop`, `e:1`…), or undefined when the term has no bits (words, tags, BPM buckets…). */
export function termBitCheck(term: string): BitCheck | undefined {
  if (term === 'e:1') return { mask: 1n << EXPLICIT_BIT, value: 1n << EXPLICIT_BIT };
  if (term === 'e:0') return { mask: 1n << EXPLICIT_BIT, value: 0n };
  const field = FIELDS.find((f) => term.startsWith(f.prefix));
  if (!field) return undefined;
  const position = field.values.indexOf(term.slice(field.prefix.length));
  if (!fits(field, position)) return undefined;
  const shift = BigInt(field.shift);
  if (field.kind === 'flags') return { mask: 1n << (shift + BigInt(position)), value: 1n << (shift + BigInt(position)) };
  return { mask: ((1n << BigInt(field.width)) - 1n) << shift, value: BigInt(position + 1) << shift };
}

/** The checks of the terms that have bits, once each: the closed vocabularies, under a hundred terms. */
const checkCache = new Map<string, BitCheck>();

/**
 * A track's bits as decimal text (for COPY), from its terms (`trackTerms`): each term with bits sets
 * its check's value. Terms without bits (words, tags, BPM buckets, decades) are skipped by their kind
 * before any lookup, so the cache holds vocabulary terms only.
 */
export function trackBits(terms: readonly string[]): string {
  let bits = 0n;
  for (const term of terms) {
    if (term.charCodeAt(1) !== 58 /* : */ || !BIT_KINDS.includes(term.charAt(0))) continue;
    let check = checkCache.get(term);
    if (check === undefined) {
      check = termBitCheck(term);
      if (check === undefined) continue;
      checkCache.set(term, check);
    }
    bits |= check.value;
  }
  return bits.toString();
}
