import { describe, expect, it } from 'vitest';
import { IsrcSet } from './isrc-set.js';

describe('IsrcSet', () => {
  it('remembers every ISRC added, through growth, and nothing else', () => {
    const set = new IsrcSet();
    const isrc = (i: number) => `ZZA${String.fromCharCode(65 + (i % 26))}${i % 10}${String(i).padStart(7, '0').slice(-7)}`;
    const added = (from: number) => {
      let n = 0;
      for (let i = from; i < 1_200_000; i += 2) if (set.add(isrc(i))) n++;
      return n;
    };
    expect(added(0)).toBe(600_000);
    expect(set.size).toBe(600_000);
    // Adding them again finds every one; the odd ones were never there.
    expect(added(0)).toBe(0);
    expect(added(1)).toBe(600_000);
    expect(set.size).toBe(1_200_000);
  });

  it('tells apart ISRCs that differ in any one character, including the extremes, and refuses non-ISRCs', () => {
    const set = new IsrcSet();
    for (const isrc of ['AAAAA0000000', 'ZZ9999999999', 'ZZZZZ9999999', 'AA0000000000', 'USRC17607839']) expect(set.add(isrc)).toBe(true);
    expect(() => set.add('US-RC1')).toThrow(/not an ISRC/);
    for (const near of ['AAAAA0000001', 'BAAAA0000000', 'ZZ9999999998', 'USRC17607838', 'USRD17607839']) expect(set.add(near)).toBe(true);
    for (const seen of ['AAAAA0000000', 'USRC17607839', 'ZZZZZ9999999']) expect(set.add(seen)).toBe(false);
    expect(set.size).toBe(10);
  });
});
