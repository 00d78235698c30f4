import { describe, expect, it } from 'vitest';
import { requestFingerprint } from './request-fingerprint.js';

describe('requestFingerprint', () => {
  it('is the same for the same request whatever the order of its fields, and leaves undefined fields out', () => {
    const a = requestFingerprint({ userId: 'u', trackIds: ['t1', 't2'], nested: { x: 1, y: 'z' }, expectedVersion: undefined });
    const b = requestFingerprint({ nested: { y: 'z', x: 1 }, trackIds: ['t1', 't2'], userId: 'u' });
    expect(a.equals(b)).toBe(true);
  });

  it('differs when any value, or the order of a list, differs', () => {
    const base = requestFingerprint({ trackIds: ['t1', 't2'], position: 3 });
    expect(base.equals(requestFingerprint({ trackIds: ['t2', 't1'], position: 3 }))).toBe(false);
    expect(base.equals(requestFingerprint({ trackIds: ['t1', 't2'], position: '3' }))).toBe(false);
    expect(base.equals(requestFingerprint({ trackIds: ['t1', 't2'], position: 3, extra: null }))).toBe(false);
  });
});
