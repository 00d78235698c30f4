/** The cache-invalidation channel: payload is a track id, or `*` for "anything may have changed". */
export const TRACK_CACHE_CHANNEL = 'metadata_track_cache';
