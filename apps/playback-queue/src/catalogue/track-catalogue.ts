export interface TrackLookup {
  /** Duration of every track found, by id. */
  durations: Map<string, number>;
  /** The ids asked for that the catalogue does not have. */
  missing: string[];
}

/** The song catalogue as this service needs it (the metadata service); also its injection token. */
export abstract class TrackCatalogue {
  /** Looks up to 100 distinct track ids; rejects with a gRPC-coded error when the catalogue cannot answer. */
  abstract lookup(trackIds: readonly string[]): Promise<TrackLookup>;
}
