import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { QueueView } from '@overture/gateway-contract';
import type { FastifyReply } from 'fastify';
import { map, type Observable } from 'rxjs';

/** Sends the version of the queue a route answers with as its ETag, for If-Match and If-None-Match. */
@Injectable()
export class QueueETagInterceptor implements NestInterceptor<QueueView, QueueView> {
  intercept(context: ExecutionContext, next: CallHandler<QueueView>): Observable<QueueView> {
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    return next.handle().pipe(
      map((queue) => {
        void reply.header('etag', queueETag(queue.version));
        return queue;
      }),
    );
  }
}

export const queueETag = (version: number): string => `"${version}"`;
