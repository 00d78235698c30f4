import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** One counted key: `freeAttempts` within `windowSeconds`, then a growing delay before each further one. */
export interface AttemptLimit {
  /** What the key counts, named in `overture_signin_throttled_total{scope}` when it refuses. */
  scope: 'account_address' | 'account' | 'address' | 'registration_address';
  key: string;
  freeAttempts: number;
  windowSeconds: number;
}

const MAX_BLOCK_SECONDS = 15 * 60;

/** Thrown inside the admission transaction to roll back the keys already counted. */
class Refused extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    readonly limit: AttemptLimit,
  ) {
    super('refused');
  }
}

/**
 * Attempt counts per key in `sign_in_throttle`, shared by every replica. Whether an attempt is
 * admitted is decided by the same statement that counts it, on the key's row lock, so parallel
 * attempts are admitted one by one against the committed count.
 */
@Injectable()
export class ThrottleRepository {
  constructor(@Inject(DataSource) private readonly db: DataSource) {}

  /**
   * Counts one attempt against every key, or against none: undefined when admitted, else the first
   * limit that refused and the seconds until it allows the next attempt. After `freeAttempts` within the window each
   * admitted attempt blocks the key for 1, 2, 4 … s (at most 15 min); a key idle for its window starts over.
   */
  async admit(limits: readonly AttemptLimit[]): Promise<{ limit: AttemptLimit; retryAfterSeconds: number } | undefined> {
    try {
      await this.db.transaction(async (tx) => {
        // Keys are taken in the callers' fixed order (strictest first), so two attempts never wait on each other in a cycle.
        for (const limit of limits) {
          const admitted: unknown[] = await tx.query(
            `INSERT INTO sign_in_throttle AS s (key, attempts, blocked_until, updated_at) VALUES ($1, 1, NULL, clock_timestamp())
             ON CONFLICT (key) DO UPDATE SET
               attempts = CASE WHEN s.updated_at < clock_timestamp() - make_interval(secs => $3) THEN 1 ELSE s.attempts + 1 END,
               updated_at = clock_timestamp(),
               blocked_until = CASE
                 WHEN s.updated_at < clock_timestamp() - make_interval(secs => $3) OR s.attempts + 1 <= $2 THEN NULL
                 ELSE clock_timestamp() + make_interval(secs => least($4, power(2, least(s.attempts - $2, 20))))
               END
             WHERE s.blocked_until IS NULL OR s.blocked_until <= clock_timestamp()
             RETURNING key`,
            [limit.key, limit.freeAttempts, limit.windowSeconds, MAX_BLOCK_SECONDS],
          );
          if (admitted.length > 0) continue;
          // Not updated because blocked; the row stays locked by the statement above, so this reads the same block.
          const [row]: { wait_s: number }[] = await tx.query(
            'SELECT greatest(1, ceil(extract(epoch FROM blocked_until - clock_timestamp())))::int AS wait_s FROM sign_in_throttle WHERE key = $1',
            [limit.key],
          );
          throw new Refused(row?.wait_s ?? 1, limit);
        }
      });
      return undefined;
    } catch (error) {
      if (error instanceof Refused) return { limit: error.limit, retryAfterSeconds: error.retryAfterSeconds };
      throw error;
    }
  }

  /** The key starts over. */
  async forget(key: string): Promise<void> {
    await this.db.query('DELETE FROM sign_in_throttle WHERE key = $1', [key]);
  }

  /** Takes one attempt back from the key (a success should not count toward its limit). */
  async giveBack(key: string): Promise<void> {
    await this.db.query('UPDATE sign_in_throttle SET attempts = greatest(attempts - 1, 0) WHERE key = $1', [key]);
  }
}
