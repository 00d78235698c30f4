import { PlaybackReason } from '@overture/contracts';
import { DomainError, ErrorCategory } from '@overture/grpc';

// Every error playback-queue answers with on purpose, one factory per reason of PlaybackErrorReason
// (proto/overture/playback/v1/errors.proto): a throw site names what went wrong, and each reason's
// category and message are written once, here.

export const versionMismatch = (current: number, expected: number): DomainError =>
  new DomainError(
    ErrorCategory.Aborted,
    PlaybackReason.VERSION_MISMATCH,
    `the queue is at version ${current}, not ${expected}; reload it and retry`,
  );

export const queueItemNotFound = (itemIds: readonly string[]): DomainError =>
  new DomainError(ErrorCategory.NotFound, PlaybackReason.QUEUE_ITEM_NOT_FOUND, `queueItemId: no item ${itemIds.join(', ')} in the queue`);

export const unknownTrack = (trackIds: readonly string[]): DomainError =>
  new DomainError(ErrorCategory.InvalidArgument, PlaybackReason.UNKNOWN_TRACK, `trackIds: no such track: ${trackIds.join(', ')}`);

export const invalidMove = (): DomainError =>
  new DomainError(ErrorCategory.InvalidArgument, PlaybackReason.INVALID_MOVE, 'beforeQueueItemId: an item cannot be moved before itself');

export const positionOutOfRange = (positionMs: number, durationMs: number): DomainError =>
  new DomainError(
    ErrorCategory.InvalidArgument,
    PlaybackReason.POSITION_OUT_OF_RANGE,
    `positionMs: ${positionMs} is past the end of the track (${durationMs} ms)`,
  );

export const invalidCursor = (): DomainError =>
  new DomainError(ErrorCategory.InvalidArgument, PlaybackReason.INVALID_CURSOR, 'cursor: not a cursor of this listing');

export const queueFull = (count: number, adding: number, max: number): DomainError =>
  new DomainError(
    ErrorCategory.FailedPrecondition,
    PlaybackReason.QUEUE_FULL,
    `the queue holds ${count} of at most ${max} items; ${adding} more do not fit`,
  );

export const queueEmpty = (): DomainError =>
  new DomainError(ErrorCategory.FailedPrecondition, PlaybackReason.QUEUE_EMPTY, 'the queue is empty');

export const noNextTrack = (): DomainError =>
  new DomainError(ErrorCategory.FailedPrecondition, PlaybackReason.NO_NEXT_TRACK, 'the current item is the last in the queue');

/** Nothing before the current item; `message` says when nothing is current at all. */
export const noPreviousTrack = (message = 'the current item is the first in the queue'): DomainError =>
  new DomainError(ErrorCategory.FailedPrecondition, PlaybackReason.NO_PREVIOUS_TRACK, message);

export const notCurrentItem = (itemId: string): DomainError =>
  new DomainError(ErrorCategory.FailedPrecondition, PlaybackReason.NOT_CURRENT_ITEM, `queueItemId: ${itemId} is not the current item`);

export const noActiveDevice = (): DomainError =>
  new DomainError(ErrorCategory.FailedPrecondition, PlaybackReason.NO_ACTIVE_DEVICE, 'nothing has been played yet; nothing to transfer');

export const replicaDraining = (): DomainError =>
  new DomainError(
    ErrorCategory.Unavailable,
    PlaybackReason.DRAINING,
    'this replica is shutting down and opens no new event stream; call again to reach another replica',
  );
