import { hash } from 'node:crypto';
import type { TrackInput } from './track-input.schema.js';

/** The content hash of a track as written: an import skips rows whose hash is unchanged. */
export function sourceHash(track: TrackInput): string {
  return hash('md5', JSON.stringify(track), 'base64url');
}
