import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

const delays = (backoff: Backoff, n: number, maxMs?: number) => Array.from({ length: n }, () => backoff.next(maxMs));

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap, counting failures', () => {
    const backoff = new Backoff({ initialMs: 200, maxMs: 5_000 });
    expect(delays(backoff, 7)).toEqual([200, 400, 800, 1600, 3200, 5000, 5000]);
    expect(backoff.failures).toBe(7);
  });

  it('stays at the cap however long the failures go on', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 1_000 });
    delays(backoff, 5_000);
    expect(backoff.next()).toBe(1_000);
  });

  it('starts over from the initial delay after a reset', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 5_000 });
    delays(backoff, 4);
    backoff.reset();
    expect(backoff.failures).toBe(0);
    expect(delays(backoff, 2)).toEqual([100, 200]);
  });

  it('takes a tighter cap for one call, while the doubling goes on underneath', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 5_000 });
    expect(delays(backoff, 5, 1_000)).toEqual([100, 200, 400, 800, 1000]);
    expect(backoff.next()).toBe(3_200);
  });

  it('with jitter, draws each delay from the upper half of its step', () => {
    const top = new Backoff({ initialMs: 500, maxMs: 5_000, jitter: true }, () => 1);
    expect(delays(top, 6)).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
    const bottom = new Backoff({ initialMs: 500, maxMs: 5_000, jitter: true }, () => 0);
    expect(delays(bottom, 3)).toEqual([250, 500, 1000]);
  });
});
