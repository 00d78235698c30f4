import { DomainError, ErrorCategory } from '@overture/grpc';
import { z } from 'zod';
import type { TrackCursor } from './track.js';

const cursorSchema = z.object({ p: z.number().int().min(0).max(100), i: z.uuid() }).strict();

/** Opaque page cursor: base64url JSON of the last row's sort key. */
export function encodeCursor(cursor: TrackCursor): string {
  return Buffer.from(JSON.stringify({ p: cursor.popularity, i: cursor.id })).toString('base64url');
}

/** Decodes a client's cursor; anything that is not one we issued is INVALID_ARGUMENT. */
export function decodeCursor(value: string): TrackCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const result = cursorSchema.safeParse(parsed);
  if (!result.success) throw new DomainError(ErrorCategory.InvalidArgument, 'INVALID_CURSOR', 'cursor is not valid');
  return { popularity: result.data.p, id: result.data.i };
}
