import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { CHANGES_CHANNEL, encodeChange, type CommittedChange } from './playback-change.js';

/**
 * Announces a change with NOTIFY inside the transaction that makes it: PostgreSQL delivers the
 * notification to every listening replica only if and when the transaction commits, in commit
 * order, so watchers never hear of a change that was rolled back.
 */
@Injectable()
export class PlaybackChangePublisher {
  async publish(em: EntityManager, change: CommittedChange): Promise<void> {
    await em.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, encodeChange(change)]);
  }
}
