import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { problemBody } from '../http/problem-body.js';
import { QueueConflictError } from './queue-conflict.error.js';

/**
 * Answers a queue version conflict like any error, plus the current queue (and its ETag), so the
 * client can rebase its change without another round trip.
 */
@Catch(QueueConflictError)
export class QueueConflictFilter implements ExceptionFilter<QueueConflictError> {
  catch(error: QueueConflictError, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (reply.sent) return;
    void reply
      .status(error.status)
      .headers(error.headers)
      .send({ ...problemBody(error, request.id), queue: error.queue });
  }
}
