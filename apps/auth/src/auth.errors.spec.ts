import { AuthReason } from '@overture/contracts';
import { madeByEachFactory } from '@overture/testing';
import { describe, expect, it } from 'vitest';
import * as errors from './auth.errors.js';

describe('auth errors', () => {
  const made = madeByEachFactory(errors);
  const contract = Object.values(AuthReason);

  it('send only reasons listed in AuthErrorReason', () => {
    for (const { name, error } of made) expect(contract, name).toContain(error.reason);
  });

  it('cover every reason AuthErrorReason lists', () => {
    expect(new Set(made.map(({ error }) => error.reason))).toEqual(new Set(contract));
  });
});
