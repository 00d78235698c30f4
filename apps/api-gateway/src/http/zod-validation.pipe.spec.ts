import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { searchQuerySchema } from '@overture/gateway-contract';
import { ApiError } from './api-error.js';
import { ZodValidationPipe } from './zod-validation.pipe.js';

const bodySchema = z.strictObject({
  name: z.string().min(1, 'must not be empty'),
  tags: z.array(z.string().max(3, 'at most 3 characters')),
});

function failure(run: () => unknown): ApiError {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected the pipe to reject');
}

describe('ZodValidationPipe', () => {
  const pipe = new ZodValidationPipe();

  it('returns the parsed value, with defaults and coercions applied', () => {
    const parsed = pipe.transform({ q: 'love', limit: '5' }, { type: 'query', schema: searchQuerySchema });
    expect(parsed).toEqual({ q: 'love', limit: 5 });
  });

  it('rejects with 400 INVALID_REQUEST naming every bad field, nested ones by path', () => {
    const error = failure(() => pipe.transform({ name: '', tags: ['ok', 'toolong'] }, { type: 'body', schema: bodySchema }));
    expect(error).toMatchObject({ status: 400, reason: 'INVALID_REQUEST' });
    expect(error.message).toBe('name: must not be empty; tags.1: at most 3 characters');
  });

  it('says a missing field is required and names unknown fields and query parameters', () => {
    expect(failure(() => pipe.transform({ tags: [], extra: 1 }, { type: 'body', schema: bodySchema })).message).toBe(
      'name: is required; extra: is not an accepted field',
    );
    expect(failure(() => pipe.transform({ colour: 'red' }, { type: 'query', schema: searchQuerySchema })).message).toBe(
      'colour: is not an accepted query parameter',
    );
  });

  it('refuses offset paging on a route that pages by cursor, saying how to page instead', () => {
    expect(failure(() => pipe.transform({ offset: '100', limit: '20' }, { type: 'query', schema: searchQuerySchema })).message).toBe(
      "offset: is not an accepted query parameter (pages follow next_cursor: pass the previous page's next_cursor as cursor)",
    );
    // Where nothing pages, an offset is just unknown.
    const unpaged = z.strictObject({ q: z.string().optional() });
    expect(failure(() => pipe.transform({ offset: '100' }, { type: 'query', schema: unpaged })).message).toBe(
      'offset: is not an accepted query parameter',
    );
  });

  it('names the request part when the whole part is wrong', () => {
    expect(failure(() => pipe.transform(undefined, { type: 'body', schema: bodySchema })).message).toBe('body: is required');
    expect(failure(() => pipe.transform([1], { type: 'body', schema: bodySchema })).message).toMatch(/^body: /);
    const header = new ZodValidationPipe(z.string().regex(/^"\d+"$/, 'must be a quoted version'));
    expect(failure(() => header.transform('12', { type: 'custom', data: 'if-match' })).message).toBe('if-match: must be a quoted version');
  });

  it('checks cross-field rules', () => {
    const error = failure(() => pipe.transform({ min_bpm: '150', max_bpm: '100' }, { type: 'query', schema: searchQuerySchema }));
    expect(error.message).toBe('min_bpm: must not be greater than max_bpm');
  });

  it('refuses a body or query declared without a schema, and passes custom parameters through', () => {
    expect(() => pipe.transform({ any: 'thing' }, { type: 'body' })).toThrow(/without a schema/);
    expect(pipe.transform('ctx', { type: 'custom' })).toBe('ctx');
  });
});
