import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';

describe('TokenBucket', () => {
  it('allows a burst of its capacity, then refuses until tokens have refilled', () => {
    const bucket = new TokenBucket(3, 2, 0);
    expect([1, 2, 3, 4].map(() => bucket.take(1, 0))).toEqual([true, true, true, false]);
    expect(bucket.waitMs(1, 0)).toBe(500);
    expect(bucket.take(1, 499)).toBe(false);
    expect(bucket.take(1, 500)).toBe(true);
  });

  it('charges costly actions more, and never takes part of a cost', () => {
    const bucket = new TokenBucket(5, 1, 0);
    expect(bucket.take(5, 0)).toBe(true);
    expect(bucket.take(5, 4_000)).toBe(false);
    expect(bucket.waitMs(5, 4_000)).toBe(1_000);
    expect(bucket.take(5, 5_000)).toBe(true);
  });

  it('holds no more than its capacity however long it was idle', () => {
    const bucket = new TokenBucket(2, 10, 0);
    expect(bucket.take(1, 3_600_000)).toBe(true);
    expect(bucket.take(1, 3_600_000)).toBe(true);
    expect(bucket.take(1, 3_600_000)).toBe(false);
  });
});
