import type { TrackFeatures } from './track-features.js';

export interface CatalogueSearch {
  /** Only tracks of this genre; every genre when absent. */
  genre?: string;
  /** 1..50. */
  limit: number;
}

/**
 * The track catalogue as this service needs it. Implemented over the metadata service's gRPC API;
 * any call may fail when metadata is down, and callers must degrade rather than fail.
 */
export abstract class Catalogue {
  /** Features of the tracks the catalogue knows among `trackIds`; unknown ids are left out. */
  abstract getFeatures(trackIds: readonly string[]): Promise<TrackFeatures[]>;

  /** Tracks matching the search, most popular first. */
  abstract search(search: CatalogueSearch): Promise<TrackFeatures[]>;
}
