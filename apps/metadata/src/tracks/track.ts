/** A catalogue track as the metadata service reads and writes it. */
export interface TrackAttributes {
  genres: string[];
  moods: string[];
  language: string;
  bpm: number;
  energy: number;
  valence: number;
  danceability: number;
  tags: string[];
}

export interface Track {
  id: string;
  title: string;
  artistName: string;
  albumTitle: string;
  durationMs: number;
  isrc: string;
  releaseYear: number;
  popularity: number;
  explicit: boolean;
  attributes: TrackAttributes;
}

export type NewTrack = Omit<Track, 'id'>;

export interface TrackFilter {
  /** Lower-cased words that must all appear in title, artist or album. */
  words: string[];
  genre?: string;
  mood?: string;
  language?: string;
  minBpm?: number;
  maxBpm?: number;
}

/** Keyset position in the (popularity desc, id asc) order. */
export interface TrackCursor {
  popularity: number;
  id: string;
}
