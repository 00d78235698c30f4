import { Inject, Injectable } from '@nestjs/common';
import { DomainError, ErrorCategory } from '@overture/grpc';
import { z } from 'zod';
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
  ) {}

  async create(input: TrackInput): Promise<Track> {
    return unwrap(await this.writes.create(input), input.isrc);
  }

  async update(id: string, expectedVersion: number, input: TrackInput): Promise<Track> {
    return unwrap(await this.writes.update(id, expectedVersion, input), input.isrc, id);
  }

  async delete(id: string, expectedVersion: number): Promise<void> {
    unwrap(await this.writes.delete(id, expectedVersion), '', id);
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
