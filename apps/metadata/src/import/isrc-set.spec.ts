import { describe, expect, it } from 'vitest';
import { IsrcSet } from './isrc-set.js';

describe('IsrcSet', () => {
  it('remembers every ISRC added, through growth, and nothing else', () => {
    const set = new IsrcSet();
    const isrc = (i: number) => `ZZA${String.fromCharCode(65 + (i % 26))}${i % 10}${String(i).padStart(7, '0').slice(-7)}`;
    for (let i = 0; i < 1_200_000; i += 2) expect(set.add(isrc(i))).toBe(true);
    expect(set.size).toBe(600_000);
    for (let i = 0; i < 1_200_000; i += 2) expect(set.has(isrc(i))).toBe(true);
    for (let i = 1; i < 1_200_000; i += 2) expect(set.has(isrc(i))).toBe(false);
    expect(set.add(isrc(0))).toBe(false);
    expect(set.size).toBe(600_000);
  });

  it('tells apart ISRCs that differ in any one character, including the extremes', () => {
    const set = new IsrcSet();
    for (const isrc of ['AAAAA0000000', 'ZZ9999999999', 'ZZZZZ9999999', 'AA0000000000', 'US-RC1', 'USRC17607839']) {
      if (!/^[A-Z]{2}[A-Z0-9]{3}\d{7}$/.test(isrc)) {
        expect(() => set.add(isrc)).toThrow(/not an ISRC/);
        continue;
      }
      expect(set.add(isrc)).toBe(true);
    }
    expect(set.size).toBe(5);
    for (const near of ['AAAAA0000001', 'BAAAA0000000', 'ZZ9999999998', 'USRC17607838', 'USRD17607839']) expect(set.has(near)).toBe(false);
  });
});
