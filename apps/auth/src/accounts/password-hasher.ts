import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';
import { passwordHashingBusy } from '../auth.errors.js';
import { ConcurrencyLimit, QueueFullError } from './concurrency-limit.js';

export interface Argon2Options {
  /** Memory cost in KiB. */
  readonly memoryKiB: number;
  /** Number of passes (iterations). */
  readonly passes: number;
  /** Hashes computed at once, and how many more may wait; unbounded when absent. */
  readonly concurrency?: { readonly maxRunning: number; readonly maxQueued: number };
}

const SALT_BYTES = 16;
const TAG_BYTES = 32;
const PARALLELISM = 1;
const VERSION = 19;
const PHC = /^\$argon2id\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

/**
 * Hashes and verifies passwords with argon2id, stored as PHC strings
 * (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, unpadded base64). Verification reads the cost from
 * the stored string, so hashes made under older settings keep working after the settings change.
 * Uses the asynchronous `crypto.argon2`, which runs on the libuv pool rather than the event loop.
 * With `concurrency`, a flood waits in a short queue and beyond it is refused at once
 * (PASSWORD_HASHING_BUSY), so it cannot pile up memory and latency for everyone.
 */
export class PasswordHasher {
  private readonly limit: ConcurrencyLimit | undefined;

  constructor(private readonly options: Argon2Options) {
    this.limit = options.concurrency && new ConcurrencyLimit(options.concurrency.maxRunning, options.concurrency.maxQueued);
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const { memoryKiB, passes } = this.options;
    const tag = await this.bounded(() => derive(password, salt, memoryKiB, passes, PARALLELISM, TAG_BYTES));
    return `$argon2id$v=${VERSION}$m=${memoryKiB},t=${passes},p=${PARALLELISM}$${b64(salt)}$${b64(tag)}`;
  }

  /** True when the hash was made with other parameters than the current ones (rehash it on the next sign-in). */
  needsRehash(phc: string): boolean {
    const match = PHC.exec(phc);
    if (!match) return true;
    const [, version, memoryKiB, passes, parallelism] = match;
    return (
      Number(version) !== VERSION ||
      Number(memoryKiB) !== this.options.memoryKiB ||
      Number(passes) !== this.options.passes ||
      Number(parallelism) !== PARALLELISM
    );
  }

  /** True when `password` matches the PHC string; false for a mismatch or a string this hasher cannot read. */
  async verify(phc: string, password: string): Promise<boolean> {
    const match = PHC.exec(phc);
    if (!match) return false;
    const [, version, memoryKiB, passes, parallelism, salt, hash] = match;
    if (Number(version) !== VERSION) return false;
    const expected = Buffer.from(hash, 'base64');
    const actual = await this.bounded(() =>
      derive(password, Buffer.from(salt, 'base64'), Number(memoryKiB), Number(passes), Number(parallelism), expected.length),
    );
    return timingSafeEqual(actual, expected);
  }

  private async bounded<T>(work: () => Promise<T>): Promise<T> {
    if (!this.limit) return work();
    try {
      return await this.limit.run(work);
    } catch (error) {
      if (error instanceof QueueFullError) {
        throw passwordHashingBusy();
      }
      throw error;
    }
  }
}

function derive(password: string, salt: Buffer, memory: number, passes: number, parallelism: number, tagLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2('argon2id', { message: password, nonce: salt, parallelism, tagLength, memory, passes }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}
