import { describe, expect, it } from 'vitest';
import { ConcurrencyLimit, QueueFullError } from './concurrency-limit.js';

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe('ConcurrencyLimit', () => {
  it('runs at most maxRunning tasks at once, queues maxQueued more and refuses the rest at once', async () => {
    const limit = new ConcurrencyLimit(2, 1);
    const gates = [deferred(), deferred(), deferred()];
    let active = 0;
    let peak = 0;
    const task = (i: number) => async () => {
      active++;
      peak = Math.max(peak, active);
      await gates[i]!.promise;
      active--;
      return i;
    };
    const runs = [0, 1, 2].map((i) => limit.run(task(i)));
    await expect(limit.run(task(0))).rejects.toBeInstanceOf(QueueFullError);
    gates[0]!.resolve();
    gates[1]!.resolve();
    gates[2]!.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect(peak).toBe(2);
    // Every slot is free again.
    expect(await Promise.all([limit.run(async () => 'a'), limit.run(async () => 'b'), limit.run(async () => 'c')])).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('frees the slot of a task that throws', async () => {
    const limit = new ConcurrencyLimit(1, 0);
    await expect(limit.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limit.run(async () => 'ok')).resolves.toBe('ok');
  });
});
