import { Inject, Injectable } from '@nestjs/common';
import { DomainError, ErrorCategory } from '@overture/grpc';
import { decodeCursor, encodeCursor } from './track-cursor.js';
import { TrackRepository } from './track.repository.js';
import { DEFAULT_PAGE, type SearchTracksInput } from './track.schemas.js';
import type { Track } from './track.js';

export interface TrackPage {
  tracks: Track[];
  nextCursor: string;
}

@Injectable()
export class TrackService {
  constructor(@Inject(TrackRepository) private readonly tracks: TrackRepository) {}

  async getTrack(id: string): Promise<Track> {
    const track = await this.tracks.findById(id);
    if (!track) throw new DomainError(ErrorCategory.NotFound, 'TRACK_NOT_FOUND', `no track with id ${id}`);
    return track;
  }

  /** Tracks in the order asked (duplicates kept), and the ids the catalogue does not have. */
  async batchGet(ids: readonly string[]): Promise<{ tracks: Track[]; missingIds: string[] }> {
    const found = new Map((await this.tracks.findByIds([...new Set(ids)])).map((t) => [t.id, t]));
    const tracks: Track[] = [];
    const missingIds: string[] = [];
    for (const id of ids) {
      const track = found.get(id);
      if (track) tracks.push(track);
      else if (!missingIds.includes(id)) missingIds.push(id);
    }
    return { tracks, missingIds };
  }

  async search(input: SearchTracksInput): Promise<TrackPage> {
    const limit = input.limit || DEFAULT_PAGE;
    const words = input.query.toLowerCase().split(/\s+/).filter(Boolean).slice(0, 8);
    const after = input.cursor ? decodeCursor(input.cursor) : undefined;
    // One extra row tells whether another page exists without a count query.
    const rows = await this.tracks.search(
      {
        words,
        genre: input.genre || undefined,
        mood: input.mood || undefined,
        language: input.language || undefined,
        minBpm: input.minBpm,
        maxBpm: input.maxBpm,
      },
      limit + 1,
      after,
    );
    const tracks = rows.slice(0, limit);
    const last = tracks.at(-1);
    return {
      tracks,
      nextCursor: rows.length > limit && last ? encodeCursor({ popularity: last.popularity, id: last.id }) : '',
    };
  }
}
