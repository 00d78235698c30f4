import pg from 'pg';
import type { TrackInput } from '../src/catalogue/track-input.schema.js';
import { TrackBulkWriter, type BulkResult } from '../src/import/track-bulk.writer.js';

/** Writes tracks through the bulk writer (the import's path), in one batch. */
export async function seedTracks(databaseUrl: string, tracks: readonly TrackInput[]): Promise<BulkResult> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await new TrackBulkWriter(client).write(tracks.map((track, i) => ({ line: i + 1, track })));
  } finally {
    await client.end();
  }
}
