import { requestContext } from '@overture/tracing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CANCEL_AFTER_MS, StatementRunner } from './statement.runner.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

/** One pooled connection (backend 4242) whose statement ends when the test says, and a recording canceller. */
function setUp() {
  const statement = deferred<{ rows: unknown[] }>();
  const events: string[] = [];
  const cancelSent = deferred<void>();
  const db = {
    createQueryRunner: () => ({
      connect: async () => ({ processID: 4242, query: () => statement.promise }),
      release: async () => void events.push('released'),
    }),
  };
  const canceller = {
    cancel: (pid: number) => {
      events.push(`cancel ${pid}`);
      return cancelSent.promise.then(() => void events.push('cancel sent'));
    },
  };
  const runner = new StatementRunner(db as never, canceller);
  return { runner, statement, events, cancelSent };
}

describe('StatementRunner', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('does not cancel a statement that ends within moments of its caller leaving', async () => {
    const { runner, statement, events } = setUp();
    const controller = new AbortController();
    const result = runner.query('SELECT 1', [], controller.signal);
    await vi.advanceTimersByTimeAsync(0);
    controller.abort(new Error('caller gone'));
    await vi.advanceTimersByTimeAsync(CANCEL_AFTER_MS - 1);
    statement.resolve({ rows: [] });
    await expect(result).resolves.toEqual([]);
    await vi.advanceTimersByTimeAsync(CANCEL_AFTER_MS);
    expect(events).toEqual(['released']);
  });

  it('cancels one that runs on, and gives its connection back only once the cancel was sent', async () => {
    const { runner, statement, events, cancelSent } = setUp();
    const controller = new AbortController();
    const result = runner.query('SELECT pg_sleep(60)', [], controller.signal);
    const settled = result.catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(0);
    controller.abort(new Error('caller gone'));
    await vi.advanceTimersByTimeAsync(CANCEL_AFTER_MS);
    expect(events).toEqual(['cancel 4242']);
    statement.reject(new Error('canceling statement due to user request'));
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual(['cancel 4242']);
    cancelSent.resolve();
    expect(await settled).toMatchObject({ message: 'caller gone' });
    expect(events).toEqual(['cancel 4242', 'cancel sent', 'released']);
  });

  it('answers rows as usual while its caller waits', async () => {
    const { runner, statement, events } = setUp();
    const result = runner.query('SELECT 1', [], new AbortController().signal);
    statement.resolve({ rows: [{ one: 1 }] });
    await expect(result).resolves.toEqual([{ one: 1 }]);
    expect(events).toEqual(['released']);
  });

  it("without a signal, cancels a statement once the served call's budget has run out", async () => {
    const { runner, statement, events, cancelSent } = setUp();
    const result = requestContext.run({ requestId: 'r-1', deadline: Date.now() + 300 }, () => runner.query('SELECT pg_sleep(60)', []));
    const settled = result.catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(300 + CANCEL_AFTER_MS - 1);
    expect(events).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(events).toEqual(['cancel 4242']);
    statement.reject(new Error('canceling statement due to user request'));
    cancelSent.resolve();
    expect(await settled).toMatchObject({ message: 'canceling statement due to user request' });
    expect(events).toEqual(['cancel 4242', 'cancel sent', 'released']);
  });

  it('leaves a statement outside any call to the connection’s own statement timeout', async () => {
    const { runner, statement, events } = setUp();
    const result = runner.query('SELECT 1', []);
    await vi.advanceTimersByTimeAsync(60_000);
    statement.resolve({ rows: [] });
    await expect(result).resolves.toEqual([]);
    expect(events).toEqual(['released']);
  });
});
