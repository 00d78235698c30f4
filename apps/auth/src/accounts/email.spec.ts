import { describe, expect, it } from 'vitest';
import { emailSchema } from './account.schemas.js';
import { normalizeEmail } from './email.js';

describe('email normalisation', () => {
  it('trims and lower-cases', () => {
    expect(normalizeEmail('  Ada.Lovelace@Example.COM\t')).toBe('ada.lovelace@example.com');
  });

  it('maps case variants of one address to the same value', () => {
    expect(normalizeEmail('ADA@example.com')).toBe(normalizeEmail('ada@EXAMPLE.com'));
  });

  it('validates after normalising, up to 254 characters', () => {
    expect(emailSchema.parse(' Ada@Example.com ')).toBe('ada@example.com');
    expect(emailSchema.safeParse('not-an-email').success).toBe(false);
    expect(emailSchema.safeParse('').success).toBe(false);
    const ofLength = (n: number) => `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(n - 197)}.com`;
    expect(ofLength(254)).toHaveLength(254);
    expect(emailSchema.safeParse(ofLength(254)).success).toBe(true);
    expect(emailSchema.safeParse(ofLength(255)).success).toBe(false);
  });
});
