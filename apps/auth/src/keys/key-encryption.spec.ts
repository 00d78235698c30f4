import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyEncryption } from './key-encryption.js';

describe('KeyEncryption', () => {
  const encryption = new KeyEncryption(randomBytes(32));
  const secret = randomBytes(48);

  it('opens what it sealed; the sealed form is iv + tag + ciphertext and not the plaintext', () => {
    const sealed = encryption.seal(secret, 'signing key k1');
    expect(sealed).toHaveLength(12 + 16 + secret.length);
    expect(sealed.includes(secret)).toBe(false);
    expect(encryption.open(sealed, 'signing key k1').equals(secret)).toBe(true);
  });

  it('fails loudly, naming AUTH_KEY_ENCRYPTION_KEY, under another key', () => {
    const sealed = encryption.seal(secret, 'signing key k1');
    expect(() => new KeyEncryption(randomBytes(32)).open(sealed, 'signing key k1')).toThrow(/AUTH_KEY_ENCRYPTION_KEY/);
  });

  it('fails for a value moved to another context or altered', () => {
    const sealed = encryption.seal(secret, 'signing key k1');
    expect(() => encryption.open(sealed, 'signing key k2')).toThrow(/cannot decrypt signing key k2/);
    const altered = Buffer.from(sealed);
    altered[altered.length - 1]! ^= 1;
    expect(() => encryption.open(altered, 'signing key k1')).toThrow(/cannot decrypt/);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => new KeyEncryption(randomBytes(16))).toThrow(/32 bytes/);
  });
});
