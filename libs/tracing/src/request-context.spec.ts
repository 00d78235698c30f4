import { describe, expect, it } from 'vitest';
import { acceptRequestId, newRequestId, outsideRequest, remainingBudgetMs, REQUEST_ID_HEADER, requestContext } from './request-context.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it('uses the conventional header name', () => {
    expect(REQUEST_ID_HEADER).toBe('x-request-id');
  });

  it('newRequestId makes distinct random UUIDs', () => {
    const a = newRequestId();
    const b = newRequestId();
    expect(a).toMatch(UUID);
    expect(b).toMatch(UUID);
    expect(a).not.toBe(b);
  });

  it.each(['abc-123', 'a.b_c:d-e', '0b7e4a8c-3f51-4c67-9d0e-5a2f4f1a9c11', 'x'.repeat(128)])('keeps a well-formed client id %s', (id) => {
    expect(acceptRequestId(id)).toBe(id);
  });

  it.each<[string, unknown]>([
    ['empty', ''],
    ['too long', 'x'.repeat(129)],
    ['spaces', 'a b'],
    ['a newline', 'abc\n{"level":"fatal"}'],
    ['JSON', '{"request_id":"x"}'],
    ['non-ASCII', 'ïd'],
    ['a number', 42],
    ['an array of ids', ['abc']],
    ['undefined', undefined],
    ['null', null],
  ])('replaces junk (%s) with a new UUID', (_label, value) => {
    const id = acceptRequestId(value);
    expect(id).toMatch(UUID);
    expect(id).not.toBe(value);
  });
});

describe('requestContext', () => {
  it('is visible inside run, across awaits, and gone outside', async () => {
    expect(requestContext.get()).toBeUndefined();
    const result = await requestContext.run({ requestId: 'r-1' }, async () => {
      expect(requestContext.get()).toEqual({ requestId: 'r-1' });
      await new Promise<void>((resolve) => setImmediate(resolve));
      return requestContext.get()?.requestId;
    });
    expect(result).toBe('r-1');
    expect(requestContext.get()).toBeUndefined();
  });

  it('keeps concurrent requests apart', async () => {
    const seen = await Promise.all(
      ['a', 'b'].map((requestId) =>
        requestContext.run({ requestId }, async () => {
          await Promise.resolve();
          return requestContext.get()?.requestId;
        }),
      ),
    );
    expect(seen).toEqual(['a', 'b']);
  });
});

describe('outsideRequest', () => {
  it('starts background work with no request, deadline or budget, even from inside a call', async () => {
    const seen = await requestContext.run({ requestId: 'r-bg', deadline: Date.now() + 10 }, () =>
      outsideRequest(
        () => new Promise<[unknown, unknown]>((resolve) => setTimeout(() => resolve([requestContext.get(), remainingBudgetMs()]), 0)),
      ),
    );
    expect(seen).toEqual([undefined, undefined]);
  });
});
