import { Inject, Injectable } from '@nestjs/common';
import { MAX_STATEMENT_TIMEOUT_MS, statementName } from '@overture/database';
import { remainingBudgetMs } from '@overture/tracing';
import type pg from 'pg';
import { DataSource } from 'typeorm';
import { BackendCanceller } from './backend.canceller.js';

/**
 * How long a statement whose caller has gone may still run before it is cancelled: most of the
 * catalogue's statements end within a few ms, and one that ends by itself costs no cancel at all.
 */
export const CANCEL_AFTER_MS = 50;

/**
 * Runs the catalogue's read statements as named prepared statements (`statementName`: a connection
 * parses and plans each text once, which for the cheap searches was as much PostgreSQL time as
 * running them), cancelling a statement whose caller has gone once it has run CANCEL_AFTER_MS past
 * that, over the replica's one cancel connection (`BackendCanceller`). Without a signal, the
 * deadline of the call being served bounds the statement the same way (its remaining budget, then
 * CANCEL_AFTER_MS), rather than the connection's fixed `statement_timeout`.
 */
@Injectable()
export class StatementRunner {
  constructor(
    @Inject(DataSource) private readonly db: Pick<DataSource, 'createQueryRunner'>,
    @Inject(BackendCanceller) private readonly canceller: Pick<BackendCanceller, 'cancel'>,
  ) {}

  /** @param signal aborts when the caller has gone; the promise then rejects with its reason. */
  async query<R>(sql: string, params: unknown[], signal?: AbortSignal): Promise<R[]> {
    signal?.throwIfAborted();
    const budgetMs = signal ? undefined : remainingBudgetMs();
    const runner = this.db.createQueryRunner();
    let cancelling: Promise<void> | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const client = (await runner.connect()) as pg.PoolClient;
      signal?.throwIfAborted();
      // The backend's process id, from the connection's BackendKeyData: set by pg, not in its types.
      const pid = (client as unknown as { processID: number }).processID;
      const cancelSoon = () => {
        timer = setTimeout(() => (cancelling = this.canceller.cancel(pid)), CANCEL_AFTER_MS);
      };
      signal?.addEventListener('abort', cancelSoon, { once: true });
      if (budgetMs !== undefined && budgetMs < MAX_STATEMENT_TIMEOUT_MS) {
        timer = setTimeout(() => (cancelling = this.canceller.cancel(pid)), Math.max(0, budgetMs) + CANCEL_AFTER_MS);
      }
      try {
        return (await client.query({ name: statementName(sql), text: sql, values: params })).rows as R[];
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        throw error;
      } finally {
        signal?.removeEventListener('abort', cancelSoon);
        clearTimeout(timer);
      }
    } finally {
      // The connection goes back only once a cancel sent for it is done, so it cannot hit the next user's statement.
      await cancelling;
      await runner.release();
    }
  }
}
