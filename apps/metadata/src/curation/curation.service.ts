import { Inject, Injectable } from '@nestjs/common';
import { DomainError, ErrorCategory } from '@overture/grpc';
import { z } from 'zod';
import { TermCache } from '../cache/term-cache.js';
import { TrackCache } from '../cache/track-cache.js';
import type { TrackInput } from '../catalogue/track-input.schema.js';
import type { Track } from '../tracks/track.js';
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

  async create(input: TrackInput): Promise<Track> {
    const track = unwrap(await this.writes.create(input), input.isrc);
    this.committed(track.id);
    return track;
  }

  async update(id: string, expectedVersion: number, input: TrackInput): Promise<Track> {
    const outcome = await this.writes.update(id, expectedVersion, input);
    if (outcome.ok) this.committed(id);
    return unwrap(outcome, input.isrc, id);
  }

  async delete(id: string, expectedVersion: number): Promise<void> {
    const outcome = await this.writes.delete(id, expectedVersion);
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

function unwrap<T>(outcome: WriteOutcome<T>, isrc: string, id?: string): T {
  if (outcome.ok) return outcome.value;
  switch (outcome.reason) {
    case 'NOT_FOUND':
      throw new DomainError(ErrorCategory.NotFound, 'TRACK_NOT_FOUND', `no track with id ${id}`);
    case 'VERSION_CONFLICT':
      throw new DomainError(ErrorCategory.Aborted, 'VERSION_CONFLICT', `track ${id} is at version ${outcome.version}; reload it and retry`);
    case 'ISRC_TAKEN':
      throw new DomainError(ErrorCategory.AlreadyExists, 'ISRC_TAKEN', `another track already has ISRC ${isrc}`);
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
  if (!result.success) throw new DomainError(ErrorCategory.InvalidArgument, 'INVALID_CURSOR', 'cursor is not valid');
  return result.data.s;
}
