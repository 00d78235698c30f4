import { MetadataReason } from '@overture/contracts';
import { DomainError, ErrorCategory } from '@overture/grpc';

// Every error metadata answers with on purpose, one factory per reason of MetadataErrorReason
// (proto/overture/metadata/v1/errors.proto): a throw site names what went wrong, and each reason's
// category and message are written once, here.

export const trackNotFound = (id: string): DomainError =>
  new DomainError(ErrorCategory.NotFound, MetadataReason.TRACK_NOT_FOUND, `no track with id ${id}`);

export const artistNotFound = (id: string): DomainError =>
  new DomainError(ErrorCategory.NotFound, MetadataReason.ARTIST_NOT_FOUND, `no artist with id ${id}`);

export const albumNotFound = (id: string): DomainError =>
  new DomainError(ErrorCategory.NotFound, MetadataReason.ALBUM_NOT_FOUND, `no album with id ${id}`);

/** A cursor this listing did not issue; `message` may say more when telling the client helps. */
export const invalidCursor = (message = 'cursor is not valid'): DomainError =>
  new DomainError(ErrorCategory.InvalidArgument, MetadataReason.INVALID_CURSOR, message);

export const versionConflict = (id: string, version: number | undefined): DomainError =>
  new DomainError(ErrorCategory.Aborted, MetadataReason.VERSION_CONFLICT, `track ${id} is at version ${version}; reload it and retry`);

export const isrcTaken = (isrc: string): DomainError =>
  new DomainError(ErrorCategory.AlreadyExists, MetadataReason.ISRC_TAKEN, `another track already has ISRC ${isrc}`);
