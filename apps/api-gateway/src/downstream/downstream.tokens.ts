/** Injection tokens of the four `Downstream` services. */
export const AUTH_DOWNSTREAM = Symbol('AUTH_DOWNSTREAM');
export const METADATA_DOWNSTREAM = Symbol('METADATA_DOWNSTREAM');
/** The metadata service's CatalogueService (pages, curation, change feed): same server, own breaker. */
export const CATALOGUE_DOWNSTREAM = Symbol('CATALOGUE_DOWNSTREAM');
export const PLAYBACK_DOWNSTREAM = Symbol('PLAYBACK_DOWNSTREAM');
export const RECOMMENDATION_DOWNSTREAM = Symbol('RECOMMENDATION_DOWNSTREAM');
