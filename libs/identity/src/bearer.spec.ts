import { describe, expect, it } from 'vitest';
import { bearerToken } from './bearer.js';

describe('bearerToken', () => {
  it('returns the token of a Bearer value, whatever the case of the scheme', () => {
    expect(bearerToken('Bearer abc.DEF-1_2~3+4/5==')).toBe('abc.DEF-1_2~3+4/5==');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Bearer   abc')).toBe('abc');
  });

  it('rejects other schemes, a missing token and characters outside the b64token syntax', () => {
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('Bearer ')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken('Bearer a=b')).toBeUndefined();
    expect(bearerToken('Bearer\tabc')).toBeUndefined();
  });
});
