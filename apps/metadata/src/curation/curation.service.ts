import { Inject, Injectable } from '@nestjs/common';
import { MetadataReason } from '@overture/contracts';
import type { KeyedWrite } from '@overture/idempotency';
import { z } from 'zod';
import { TermCache } from '../cache/term-cache.js';
import { TrackCache } from '../cache/track-cache.js';
import type { TrackInput } from '../catalogue/track-input.schema.js';
import type { Track } from '../tracks/track.js';
import { invalidCursor, isrcTaken, trackNotFound, versionConflict } from '../metadata.errors.js';
import { ChangeFeedRepository, type TrackChange } from './change-feed.repository.js';
import { TrackWriteRepository, type WriteOutcome } from './track-write.repository.js';

const changeCursorSchema = z.strictObject({ s: z.number().int().min(0) });

/** Curator writes (create, update and delete with an expected version) and the change feed. */
@Injectable()
export class CurationService {
  constructor(
    @Inject(TrackWriteRepository) private readonly writes: TrackWriteRepository,
    @Inject(ChangeFeedRepository) private readonly feed: ChangeFeedRepository,
    @Inject(TrackCache) private readonly tracks: TrackCache,
    @Inject(TermCache) private readonly terms: TermCache,
  ) {}

  async create(input: TrackInput, keyed?: KeyedWrite<Track>): Promise<Track> {
    const track = unwrap(await this.writes.create(input, keyed), input.isrc);
    this.committed(track.id);
    return track;
  }

  async update(id: string, expectedVersion: number, input: TrackInput, keyed?: KeyedWrite<Track>): Promise<Track> {
    const outcome = await this.writes.update(id, expectedVersion, input, keyed);
    if (outcome.ok) this.committed(id);
    return unwrap(outcome, input.isrc, id);
  }

  async delete(id: string, expectedVersion: number, keyed?: KeyedWrite<undefined>): Promise<void> {
    const outcome = await this.writes.delete(id, expectedVersion, keyed);
    if (outcome.ok) this.committed(id);
    unwrap(outcome, '', id);
  }

  // The NOTIFY sent at commit reaches this replica's listener on its own connection, possibly after
  // the writer has its answer and reads again: drop the entries here first, so this replica never
  // serves what the write replaced (nor stores a read that raced it: the generation moves).
  private committed(id: string): void {
    this.tracks.invalidate(id);
    this.terms.clear();
  }

  async changes(cursor: string, limit: number): Promise<{ changes: TrackChange[]; nextCursor: string }> {
    const after = cursor ? decodeChangeCursor(cursor) : 0;
    const changes = await this.feed.after(after, limit);
    const last = changes.at(-1)?.seq ?? after;
    return { changes, nextCursor: Buffer.from(JSON.stringify({ s: last })).toString('base64url') };
  }
}

// `id` is empty for a create, which can only be refused for its ISRC.
function unwrap<T>(outcome: WriteOutcome<T>, isrc: string, id = ''): T {
  if (outcome.ok) return outcome.value;
  switch (outcome.reason) {
    case MetadataReason.TRACK_NOT_FOUND:
      throw trackNotFound(id);
    case MetadataReason.VERSION_CONFLICT:
      throw versionConflict(id, outcome.version);
    case MetadataReason.ISRC_TAKEN:
      throw isrcTaken(isrc);
  }
}

function decodeChangeCursor(value: string): number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const result = changeCursorSchema.safeParse(parsed);
  if (!result.success) throw invalidCursor();
  return result.data.s;
}
