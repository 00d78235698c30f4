import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { TRACK_COLUMNS, toTrack, type TrackRow } from '../tracks/track.repository.js';
import type { Track } from '../tracks/track.js';

export interface TrackChange {
  seq: number;
  trackId: string;
  kind: string;
  version: number;
  changedAt: string;
  /** The track as it is now (absent once deleted). */
  track?: Track;
}

@Injectable()
export class ChangeFeedRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  async after(seq: number, limit: number): Promise<TrackChange[]> {
    const rows: (Partial<TrackRow> & { seq: string; change_track_id: string; kind: string; change_version: number; changed_at: Date })[] =
      await this.db.query(
        `SELECT c.seq, c.track_id AS change_track_id, c.kind, c.version AS change_version, c.changed_at, ${TRACK_COLUMNS}
       FROM track_changes c LEFT JOIN tracks t ON t.id = c.track_id AND c.kind <> 'deleted'
       WHERE c.seq > $1 ORDER BY c.seq LIMIT $2`,
        [seq, limit],
      );
    return rows.map((row) => ({
      seq: Number(row.seq),
      trackId: row.change_track_id,
      kind: row.kind,
      version: row.change_version,
      changedAt: row.changed_at.toISOString(),
      track: row.id ? toTrack(row as TrackRow) : undefined,
    }));
  }
}
