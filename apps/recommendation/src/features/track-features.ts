/** The attributes of a track this service scores on: its own copy of part of the catalogue. */
export interface TrackFeatures {
  trackId: string;
  genres: string[];
  moods: string[];
  /** ISO 639-1 code; empty when unknown. */
  language: string;
  bpm: number;
  /** 0..100, the catalogue's popularity. */
  popularity: number;
}
