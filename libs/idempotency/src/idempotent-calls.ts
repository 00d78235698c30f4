import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { IDEMPOTENCY_CONFIG, type IdempotencyConfig } from './idempotency.config.js';
import { idempotencyKeyInUse, idempotencyKeyReused } from './idempotency.errors.js';
import { IdempotencyRepository, type KeyAddress } from './idempotency.repository.js';
import { requestFingerprint } from './request-fingerprint.js';

/**
 * A write made with an idempotency key, as the write's own transaction sees it. The service calls
 * `claim` first in the transaction and `record` last, on every path that commits, so that a
 * committed write always has its key and answer stored with it, and a failed one has neither.
 */
export interface KeyedWrite<T> {
  /**
   * Takes the key. When it was already used for the same request, ends the call with the stored
   * answer (it throws, so the transaction rolls back having written nothing); for another request
   * IDEMPOTENCY_KEY_REUSED; while a call with the key is in flight IDEMPOTENCY_KEY_IN_USE.
   */
  claim(em: EntityManager): Promise<void>;
  /** Stores the answer `result` makes, with the key. */
  record(em: EntityManager, result: T): Promise<void>;
}

/** One call of a write method: the key the client sent (if any), whose it is, and the request it came with. */
export interface KeyedCall {
  readonly key: string | undefined;
  /** Whose keys these are: the caller's user id (or, for a call with no user, a fingerprint of the request). */
  readonly scope: string;
  /** The operation the key is spent on: one per client-facing route, even if it maps to several methods. */
  readonly operation: string;
  /** The request as validated, without its key: what a retry must repeat exactly. */
  readonly request: unknown;
}

// How a claim that found the key's answer leaves the transaction: thrown through it, caught by `run`.
class StoredAnswer {
  constructor(readonly response: unknown) {}
}

/**
 * Runs the write methods of a gRPC service with idempotency keys (draft-ietf-httpapi-idempotency-key-header).
 * The gateway renders HTTP from the gRPC answer, so the answer stored is the gRPC response: a
 * replay is that response again, with `replayed: true`.
 */
@Injectable()
export class IdempotentCalls {
  constructor(
    @Inject(IdempotencyRepository) private readonly keys: IdempotencyRepository,
    @Inject(IDEMPOTENCY_CONFIG) private readonly config: Pick<IdempotencyConfig, 'IDEMPOTENCY_RETENTION_HOURS'>,
  ) {}

  /**
   * Runs `work`, which applies the write in one transaction and, when given a KeyedWrite, claims
   * and records it there; `render` makes the gRPC response from the write's result. Without a key
   * the write runs as it would anyway.
   */
  async run<T, R extends object>(
    call: KeyedCall,
    render: (result: T) => R,
    work: (write: KeyedWrite<T> | undefined) => Promise<T>,
  ): Promise<R & { replayed: boolean }> {
    if (call.key === undefined) return { ...render(await work(undefined)), replayed: false };
    const address: KeyAddress = { scope: call.scope, operation: call.operation, key: call.key };
    const fingerprint = requestFingerprint({ operation: call.operation, request: call.request });
    const retentionMs = this.config.IDEMPOTENCY_RETENTION_HOURS * 3_600_000;
    let answer: R | undefined;
    const write: KeyedWrite<T> = {
      claim: async (em) => {
        if (!(await this.keys.tryLock(em, address))) throw idempotencyKeyInUse();
        const stored = await this.keys.find(em, address, retentionMs);
        if (!stored) return;
        if (!stored.fingerprint.equals(fingerprint)) throw idempotencyKeyReused();
        throw new StoredAnswer(stored.response);
      },
      record: async (em, result) => {
        answer = render(result);
        await this.keys.save(em, address, fingerprint, answer);
      },
    };
    try {
      const result = await work(write);
      // The answer as stored, so that the first call and its replays read the same.
      return { ...(answer ?? render(result)), replayed: false };
    } catch (error) {
      if (error instanceof StoredAnswer) return { ...(error.response as R), replayed: true };
      throw error;
    }
  }
}
