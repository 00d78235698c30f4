import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { invalidCursor } from '../metadata.errors.js';
import { RANGES } from './attribute-vocabulary.js';

/**
 * A keyset position: the sort key (popularity, or release date in days since 1970) and the track's doc
 * (its internal number, the tie-breaker of both orders).
 */
export interface SearchPosition {
  key: number;
  doc: number;
}

export interface SearchCursor {
  order: 'popularity' | 'release_date';
  /** Relevance tier being walked: 0 exact words, 1 prefix/fuzzy matches. */
  tier: 0 | 1;
  after: SearchPosition;
  /**
   * How many pages in a row, up to this cursor, ended at their scan budget before filling
   * (MAX_BUDGET_DOUBLINGS at most); each doubles the next page's budget. Absent after a full page.
   */
  partialStreak?: number;
}

/** Which listing a cursor pages: search and browse, or one artist's tracks. A cursor is valid only there. */
export type CursorScope = { route: 'search' } | { route: 'artist'; artistId: string };

/** The most doublings of the scan budget a run of partial pages earns (8 × the budget). */
export const MAX_BUDGET_DOUBLINGS = 3;

const DAY_MS = 86_400_000;
const FIRST_DAY = Date.UTC(RANGES.year.min, 0, 1) / DAY_MS;
const LAST_DAY = Date.UTC(RANGES.year.max, 11, 31) / DAY_MS;

// Every field bounded by what the catalogue can hold, so a cursor that passes reaches SQL in range
// (popularity is a smallint 0..100; release dates lie in the catalogue's years).
const cursorSchema = z
  .object({
    o: z.enum(['p', 'd']),
    t: z.union([z.literal(0), z.literal(1)]),
    k: z.number().int(),
    d: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1),
    s: z.number().int().min(1).max(MAX_BUDGET_DOUBLINGS).optional(),
  })
  .strict()
  .refine((c) => (c.o === 'p' ? c.k >= 0 && c.k <= 100 : c.k >= FIRST_DAY && c.k <= LAST_DAY));

/** Bytes of HMAC-SHA256 kept in a cursor: 128 bits, too many to guess, few enough to keep cursors short. */
const MAC_BYTES = 16;

/**
 * Opaque page cursors: base64url JSON of the sort, the relevance tier, the last row's sort key and,
 * after a partial page, the run of partial pages so far; then `.` and an HMAC of it and its scope
 * under the replicas' shared key. A client can neither raise its scan budget (the run of partial
 * pages) nor carry a cursor to another listing; anything we did not issue is INVALID_CURSOR.
 */
export class SearchCursorCodec {
  constructor(private readonly key: string) {}

  encode(cursor: SearchCursor, scope: CursorScope): string {
    const value = {
      o: cursor.order === 'popularity' ? 'p' : 'd',
      t: cursor.tier,
      k: cursor.after.key,
      d: cursor.after.doc,
      ...(cursor.partialStreak ? { s: cursor.partialStreak } : {}),
    };
    const payload = Buffer.from(JSON.stringify(value)).toString('base64url');
    return `${payload}.${this.mac(payload, scope).toString('base64url')}`;
  }

  /** Decodes a client's cursor for `scope`; anything that is not one we issued there is INVALID_CURSOR. */
  decode(value: string, scope: CursorScope): SearchCursor {
    const [payload, mac, ...rest] = value.split('.');
    if (!payload || !mac || rest.length) throw invalidCursor();
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== MAC_BYTES || !timingSafeEqual(given, this.mac(payload, scope))) throw invalidCursor();
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw invalidCursor();
    }
    const result = cursorSchema.safeParse(parsed);
    if (!result.success) throw invalidCursor();
    const c = result.data;
    return {
      order: c.o === 'p' ? 'popularity' : 'release_date',
      tier: c.t,
      after: { key: c.k, doc: c.d },
      ...(c.s ? { partialStreak: c.s } : {}),
    };
  }

  private mac(payload: string, scope: CursorScope): Buffer {
    const bound = scope.route === 'artist' ? `artist:${scope.artistId}` : 'search';
    return createHmac('sha256', this.key).update(`${bound}\n${payload}`).digest().subarray(0, MAC_BYTES);
  }
}
