import { DomainError, ErrorCategory } from '@overture/grpc';
import { z } from 'zod';

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

/** The most doublings of the scan budget a run of partial pages earns (8 × the budget). */
export const MAX_BUDGET_DOUBLINGS = 3;

const cursorSchema = z
  .object({
    o: z.enum(['p', 'd']),
    t: z.union([z.literal(0), z.literal(1)]),
    k: z.number().int().min(-100_000).max(100_000),
    d: z.number().int().min(0).max(2 ** 31 - 1),
    s: z.number().int().min(1).max(MAX_BUDGET_DOUBLINGS).optional(),
  })
  .strict();

/**
 * Opaque page cursor: base64url JSON of the sort, the relevance tier, the last row's sort key and,
 * after a partial page, the run of partial pages so far.
 */
export function encodeCursor(cursor: SearchCursor): string {
  const value = {
    o: cursor.order === 'popularity' ? 'p' : 'd',
    t: cursor.tier,
    k: cursor.after.key,
    d: cursor.after.doc,
    ...(cursor.partialStreak ? { s: cursor.partialStreak } : {}),
  };
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Decodes a client's cursor; anything that is not one we issued is INVALID_ARGUMENT. */
export function decodeCursor(value: string): SearchCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const result = cursorSchema.safeParse(parsed);
  if (!result.success) throw new DomainError(ErrorCategory.InvalidArgument, 'INVALID_CURSOR', 'cursor is not valid');
  const c = result.data;
  return { order: c.o === 'p' ? 'popularity' : 'release_date', tier: c.t, after: { key: c.k, doc: c.d }, ...(c.s ? { partialStreak: c.s } : {}) };
}
