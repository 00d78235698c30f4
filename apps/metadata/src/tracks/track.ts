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
  key: string;
  mode: string;
  vocalType: string;
}

export interface Track {
  id: string;
  title: string;
  artistName: string;
  albumTitle: string;
  durationMs: number;
  isrc: string;
  releaseYear: number;
  releaseDate: string;
  popularity: number;
  explicit: boolean;
  attributes: TrackAttributes;
  artistId: string;
  albumId: string;
  regions: string[];
  tier: string;
  audioRef: string;
  version: number;
}

export interface Artist {
  id: string;
  name: string;
  trackCount: number;
}

export interface Album {
  id: string;
  title: string;
  artistId: string;
  artistName: string;
  releaseDate: string;
}
