import { PlaybackReason } from '@overture/contracts';
import { ApiError } from '../http/api-error.js';
import type { QueueView } from '@overture/gateway-contract';

/** 409 for a queue change made against a version the queue has moved past; carries the current queue. */
export class QueueConflictError extends ApiError {
  constructor(
    readonly queue: QueueView,
    message: string,
    options?: ErrorOptions,
  ) {
    super(409, PlaybackReason.VERSION_MISMATCH, message, { etag: `"${queue.version}"` }, options);
  }
}
